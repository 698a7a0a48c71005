"""Run by test_import_race.py in a fresh process (``python -m tests.unit.models.import_race``): four threads load models that import
transformers for the first time at the same moment, as two learners' sessions do on a fresh
server. Prints "ok" or the errors."""
import threading

from lessons import models

errors: list[str] = []
start = threading.Barrier(4)


def load(fn):
    def go():
        start.wait()
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - the test reads the message
            errors.append(repr(exc))
    return go


threads = [threading.Thread(target=load(f)) for f in
           (models.load_gpt2_tokenizer, models.load_minilm, models.load_gpt2_tokenizer, models.load_tiny_gpt)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("ok" if not errors else "\n".join(errors))
