"""The janitor in ui/runtime.py frees what learners who left had trained. It relies on two
Streamlit internals; these tests fail on a Streamlit upgrade that changes them."""
import inspect
import time
from types import SimpleNamespace

from streamlit.runtime import Runtime
from streamlit.runtime.memory_session_storage import MemorySessionStorage

from ui import runtime


def test_runtime_keeps_its_session_manager_and_storage_where_the_janitor_looks():
    src = inspect.getsource(Runtime.__init__)
    assert "self._session_mgr" in src
    from streamlit.runtime.websocket_session_manager import WebsocketSessionManager

    assert "self._session_storage" in inspect.getsource(WebsocketSessionManager.__init__)


def test_a_length_query_reaps_closed_sessions_after_their_ttl():
    storage = MemorySessionStorage(ttl_seconds=1)
    info = SimpleNamespace(session=SimpleNamespace(id="gone"))
    storage.save(info)
    assert len(storage._cache) == 1
    time.sleep(1.2)
    assert len(storage._cache) == 0          # what expire_closed_sessions() does
    assert storage.get("gone") is None


def test_without_a_running_server_the_janitor_step_is_a_no_op():
    assert runtime.expire_closed_sessions() is None
