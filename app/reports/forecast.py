"""销售预测: the next three months of sales from a method a manager can check by hand.

Forecast of a month = the average of the three months before it (moving average), scaled by that calendar month's
seasonal index when two years of history exist (the month's sales a year earlier ÷ the average month of that
year). The backtest forecasts each of the last six complete months from what was known before it and reports the
mean absolute error and the mean absolute percentage error, so the method's accuracy is shown beside it.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext

from app.reports import periods

HORIZON, BACKTEST, WINDOW = 3, 6, 3
CENT = Decimal("0.01")


def predict(history: dict[str, Decimal], month: str) -> Decimal | None:
    """Forecast one month from the months strictly before it (None without three months of history)."""
    before = [history.get(periods.shift(month, periods.MONTH, -i)) for i in range(1, WINDOW + 1)]
    if any(v is None for v in before):
        return None
    base = sum(before, Decimal(0)) / WINDOW
    year_ago = [history.get(periods.shift(month, periods.MONTH, -12 - i)) for i in range(0, 12)]
    if all(v is not None for v in year_ago):
        average = sum(year_ago, Decimal(0)) / 12
        if average > 0:
            base = base * history[periods.shift(month, periods.MONTH, -12)] / average
    return base.quantize(CENT, rounding=ROUND_HALF_UP)


def forecast(history: dict[str, Decimal], last_month: str) -> tuple[list[tuple[str, Decimal]], dict]:
    """(next months with their forecast, backtest {mae, mape, months}) from monthly history up to last_month."""
    known = dict(history)
    ahead = []
    month = last_month
    for _ in range(HORIZON):
        month = periods.shift(month, periods.MONTH, 1)
        value = predict(known, month)
        if value is None:
            break
        ahead.append((month, value))
        known[month] = value  # later months build on the forecast, as they would in practice
    errors, percents = [], []
    for i in range(BACKTEST - 1, -1, -1):
        month = periods.shift(last_month, periods.MONTH, -i)
        actual = history.get(month)
        value = predict({k: v for k, v in history.items() if k < month}, month)
        if actual is None or value is None:
            continue
        errors.append(abs(actual - value))
        if actual != 0:
            percents.append(abs(actual - value) / abs(actual) * 100)
    backtest = {
        "months": len(errors),
        "mae": (sum(errors, Decimal(0)) / len(errors)).quantize(CENT) if errors else None,
        "mape": (sum(percents, Decimal(0)) / len(percents)).quantize(Decimal("0.1")) if percents else None,
    }
    return ahead, backtest


def attach_forecast(session, params, result) -> None:
    """Add the forecast months to a monthly sales-amount result (chart only; the table keeps actual figures)."""
    from app.reports.services import Params, sales_by_period

    if params.period != periods.MONTH:
        return
    last = periods.key_of(params.end, periods.MONTH)
    history_params = Params(**{**params.__dict__})
    history_params.start = periods.first_day(periods.shift(last, periods.MONTH, -(24 + WINDOW)), periods.MONTH)
    history_params.end = params.end
    data = sales_by_period(session, history_params)
    first_with_data = min(data) if data else None
    history = {}
    for key in periods.periods_between(history_params.start, params.end, periods.MONTH):
        if first_with_data is not None and key >= first_with_data:
            history[key] = Decimal(str(data.get(key, [0])[0]))
    # the current month is not over: forecast from complete months only
    ahead, backtest = forecast(history, periods.shift(last, periods.MONTH, -1)) if history else ([], {"months": 0})
    ahead = [(m, v) for m, v in ahead if m >= last]
    result.chart["forecast"] = [{"period": m, "amount": str(v)} for m, v in ahead]
    result.chart["backtest"] = {k: (str(v) if v is not None else None) for k, v in backtest.items()}
    if ahead:
        text = gettext(
            "Forecast (3-month moving average × seasonal index): %(values)s.",
            values="，".join(f"{m} ¥{v:,.2f}" for m, v in ahead),
        )
        if backtest.get("mae") is not None:
            text += " " + gettext(
                "Backtest over the last %(n)s months: mean absolute error ¥%(mae)s, MAPE %(mape)s.",
                n=backtest["months"],
                mae=f"{backtest['mae']:,.2f}",
                mape=f"{backtest['mape']}%" if backtest.get("mape") is not None else "—",
            )
        result.notes.append(text)
    else:
        result.notes.append(gettext("Not enough history for a forecast (three complete months are needed)."))
