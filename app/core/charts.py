"""Charts served by the app itself (ECharts from the npm package, never a CDN) and the one chart page every report
uses: filters, the chart, the table and the Excel download, all from the same figures.

A report hands over columns, rows, optional totals and a small chart spec; `echarts_option()` turns that into an
ECharts option (plain JSON, no code), and `static/js/charts.js` draws it with the Chinese locale, exact tooltips,
a save-as-image button and resizing for phones.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
from io import BytesIO

from flask import Blueprint, abort, current_app, send_file, send_from_directory
from flask_appbuilder import BaseView
from flask_babel import gettext

from app.core import excel

vendor = Blueprint("vendor", __name__)
KIND_TO_EXCEL = {"money": excel.MONEY, "qty": excel.QTY, "int": excel.INT, "percent": excel.DECIMAL, "text": excel.TEXT}


def echarts_dir() -> str:
    return current_app.config.get("ECHARTS_DIST") or os.path.join(
        os.path.dirname(current_app.root_path), "node_modules", "echarts", "dist"
    )


@vendor.route("/vendor/echarts.min.js")
def echarts_js():
    """The ECharts build installed by `npm ci` (package.json pins it); 404 with a hint when it is missing."""
    folder = echarts_dir()
    if not os.path.exists(os.path.join(folder, "echarts.min.js")):
        abort(404, description=gettext("Charts are not installed: run `npm ci` in the project folder."))
    return send_from_directory(folder, "echarts.min.js", mimetype="application/javascript", max_age=86400)


def echarts_installed() -> bool:
    return os.path.exists(os.path.join(echarts_dir(), "echarts.min.js"))


def _num(value):
    if value is None:
        return None
    return float(value) if isinstance(value, Decimal) else value


def echarts_option(title: str, columns, rows, totals, spec: dict) -> dict:
    """An ECharts option for bar / line / pie charts of report rows (no JavaScript in it: JSON only)."""
    labels = {c.key: str(c.label) for c in columns}
    kinds = {c.key: c.kind for c in columns}
    option: dict = {
        "title": {"text": title, "left": "center", "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "axis", "confine": True},
        "toolbox": {"feature": {"saveAsImage": {"title": gettext("Save as image"), "name": title}}},
        "grid": {"left": 8, "right": 16, "bottom": 40, "top": 60, "containLabel": True},
        "legend": {"bottom": 0, "type": "scroll"},
    }
    kind = spec.get("type", "bar")
    if kind == "pie":
        keys = spec.get("from_totals", [])
        option["tooltip"] = {"trigger": "item", "confine": True}
        option["series"] = [
            {
                "type": "pie",
                "radius": ["35%", "65%"],
                "data": [{"name": labels[k], "value": _num((totals or {}).get(k, 0))} for k in keys],
            }
        ]
        option["_format"] = "money"
        return option
    if spec.get("pivot"):
        months = spec["x_labels"]
        option["xAxis"] = {"type": "category", "data": months}
        option["yAxis"] = {"type": "value"}
        top = sorted(rows, key=lambda r: r.get("total") or 0, reverse=True)[:10]
        option["series"] = [
            {"type": "line", "name": r[columns[0].key], "data": [_num(r[f"m{i}"]) for i in range(1, len(months) + 1)]}
            for r in top
        ]
        option["_format"] = "money"
        return option
    x_key = spec["x"]
    series_keys = spec["series"]
    if spec.get("stack_by"):
        # several salespeople per period: chart the sums per period
        merged: dict = {}
        for row in rows:
            acc = merged.setdefault(row[x_key], {k: 0 for k in series_keys})
            for k in series_keys:
                acc[k] += _num(row.get(k)) or 0
        x_values = list(merged)
        data = {k: [merged[x][k] for x in x_values] for k in series_keys}
    else:
        x_values = [row[x_key] for row in rows]
        data = {k: [_num(row.get(k)) for row in rows] for k in series_keys}
    forecast = spec.get("forecast") or []
    for f in forecast:  # forecast months inside the range sit on their own category; later ones are appended
        if f["period"] not in x_values:
            x_values.append(f["period"])
            for k in series_keys:
                data[k].append(None)
    category_axis = {"type": "category", "data": x_values, "axisLabel": {"hideOverlap": True}}
    value_axis = {"type": "value"}
    if spec.get("horizontal"):
        category_axis["inverse"] = True
        option["xAxis"], option["yAxis"] = value_axis, category_axis
    else:
        option["xAxis"], option["yAxis"] = category_axis, value_axis
    option["series"] = [{"type": kind, "name": labels[k], "data": data[k]} for k in series_keys]
    if forecast:
        # dashed from the last month before the forecast (the current month is not over, so not that one)
        line = [None] * len(x_values)
        first = x_values.index(forecast[0]["period"])
        if first > 0:
            line[first - 1] = data[series_keys[0]][first - 1]
        for f in forecast:
            line[x_values.index(f["period"])] = float(f["amount"])
        option["series"].append(
            {
                "type": "line",
                "name": gettext("Forecast"),
                "lineStyle": {"type": "dashed"},
                "connectNulls": False,
                "data": line,
            }
        )
    option["_format"] = "percent" if spec.get("percent") else kinds.get(series_keys[0], "money")
    return option


def option_json(option: dict) -> str:
    """JSON safe inside a <script type="application/json"> block."""
    return json.dumps(option, ensure_ascii=False).replace("<", "\\u003c")


def result_xlsx(title: str, columns, rows, totals) -> bytes:
    """The Excel download: the same columns, rows and total row as the page."""
    cols = [excel.Column(c.key, c.label, KIND_TO_EXCEL.get(c.kind, excel.TEXT)) for c in columns]
    body = [tuple(row.get(c.key) for c in columns) for row in rows]
    if totals:
        body.append(tuple(totals.get(c.key) for c in columns))
    return excel.xlsx_bytes(title, cols, body)


def xlsx_response(title: str, columns, rows, totals):
    from app.core.formatting import local_today

    return send_file(
        BytesIO(result_xlsx(title, columns, rows, totals)),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"{title}_{local_today():%Y%m%d}.xlsx",
    )


class ChartView(BaseView):
    """Base of every chart page: the same figures as a page (filters, chart, table) or as the Excel download."""

    chart_template = "core/chart_page.html"

    def chart_response(self, title: str, columns, rows, totals, spec: dict, *, as_xlsx: bool, **page):
        """`page` carries the filter form's values (params, periodic, period_choices, filter_fields, xlsx_url,
        notes, fmt) for the template."""
        if as_xlsx:
            return xlsx_response(title, columns, rows, totals)
        option = echarts_option(title, columns, rows, totals, spec)
        return self.render_template(
            self.chart_template,
            title=title,
            columns=columns,
            rows=rows,
            totals=totals,
            option_json=option_json(option),
            **page,
        )
