"""AppTest: the scaling-laws page's calculator and charts respond to the widgets."""
from lessons.pretraining import scaling_laws
from tests.app.helpers import assert_no_exception, open_page, texts

PAGE = "pages/w1_scaling_laws.py"


def _metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def test_calculator_defaults_to_chinchilla_budget():
    at = open_page(PAGE, timeout=60)
    # 10^23.77 = 5.89e23 FLOPs at 20 tokens/param: Chinchilla's own 70B / 1.4T.
    assert _metric(at, "Parameters N") == "70.1B"
    assert _metric(at, "Training tokens D") == "1.4T"
    assert "Chinchilla" in texts(at)
    # The exact optimum of each fit: the refit stays near 20 tokens/param, the paper's constants do not.
    table = at.dataframe[1].value.set_index("fit")
    assert 10 < table.loc[scaling_laws.EPOCH.name, "tokens / parameter"] < 30
    assert table.loc[scaling_laws.CHINCHILLA.name, "tokens / parameter"] > 50
    assert len(at.get("plotly_chart")) == 2


def test_moving_budget_and_ratio_changes_the_split():
    at = open_page(PAGE, timeout=60)
    at.slider(key="scaling-laws.logc").set_value(21.0).run()
    assert_no_exception(at)
    b = scaling_laws.compute_optimal(1e21)
    assert _metric(at, "Budget C (FLOPs)") == "1e+21"
    assert _metric(at, "Parameters N") == scaling_laws.human(b.params)
    at.number_input(key="scaling-laws.k").set_value(200.0).run()
    b2 = scaling_laws.compute_optimal(1e21, 200)
    assert _metric(at, "Parameters N") == scaling_laws.human(b2.params)
    assert _metric(at, "Loss, Chinchilla fit") == f"{b2.loss_chinchilla:.3f}"
    assert _metric(at, "Loss, Epoch refit") == f"{b2.loss_epoch:.3f}"


def test_no_budget_selected_gives_a_message():
    at = open_page(PAGE, timeout=60)
    at.multiselect(key="scaling-laws.budgets").set_value([]).run()
    assert_no_exception(at)
    assert "Pick at least one budget" in texts(at)
    assert len(at.get("plotly_chart")) == 1
