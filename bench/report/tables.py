"""Markdown tables of the benchmark outputs: parsing, merging runs, formatting median [min-max].
Used by make_report.py."""
import re
import statistics

NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


def first_table(text):
    """(header cells, rows of cells) of the first Markdown table in `text`."""
    header, rows = None, []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("|"):
            if header is not None and rows:
                break
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if header is None:
            header = cells
        elif all(re.fullmatch(r":?-+:?", c) for c in cells if c):
            continue
        else:
            rows.append(cells)
    return header or [], rows


def numbers(cell):
    return [float(n.replace(",", "")) for n in NUMBER.findall(cell)]


def keyed(table, nkey, last_number):
    """{key tuple: {column: [numbers of the cell]}}; `last_number` keeps only the cell's last
    number (the median of "best / median" cells)."""
    header, rows = table
    out = {}
    for row in rows:
        if len(row) < len(header):
            continue
        key = tuple(row[:nkey])
        values = {}
        for col, cell in zip(header[nkey:], row[nkey:]):
            n = numbers(cell)
            if n and "skipped" not in cell:
                values[col] = n[-1:] if last_number else n
        out[key] = values
    return out


def merge_runs(runs):
    """{key: {column: [[run values of position 0], [position 1], ...]}}, keys in first-seen order."""
    merged = {}
    for run in runs:
        for key, values in run.items():
            slot = merged.setdefault(key, {})
            for col, nums in values.items():
                positions = slot.setdefault(col, [[] for _ in nums])
                for i, n in enumerate(nums[:len(positions)]):
                    positions[i].append(n)
    return merged


def fmt(x):
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def fmt_spread(positions, sep=" / "):
    """"median [min-max]" per position, joined with `sep`; "" when there is nothing."""
    if not positions:
        return ""
    parts = []
    for values in positions:
        if not values:
            continue
        med = statistics.median(values)
        if len(values) > 1 and min(values) != max(values):
            parts.append(f"{fmt(med)} [{fmt(min(values))}-{fmt(max(values))}]")
        else:
            parts.append(fmt(med))
    return sep.join(parts)


def positional_ratio(num, den, num_sep=" / "):
    """vtas / Linux of cells that may hold two numbers: "p50 / p99" gives one ratio per
    position; "app + fast path" (num_sep " + ") is summed first. "-" when not comparable."""
    if not num or not den or not all(num) or not all(den):
        return "-"
    a = [statistics.median(v) for v in num]
    b = [statistics.median(v) for v in den]
    if num_sep == " + ":
        a = [sum(a)]
    if len(a) != len(b) or any(x == 0 for x in b):
        return "-"
    return " / ".join(f"{x / y:.2f}" for x, y in zip(a, b))


def ratio(num, den, num_col, den_col=None, first_only=True):
    """median(num[num_col]) / median(den[den_col]) of the first numbers, as text ("-" if none)."""
    den_col = den_col or num_col
    a, b = num.get(num_col), den.get(den_col)
    if not a or not b or not a[0] or not b[0]:
        return "-"
    db = statistics.median(b[0])
    if db == 0:
        return "-"
    return f"{statistics.median(a[0]) / db:.2f}"


def quantile(sorted_values, q):
    if not sorted_values:
        return 0.0
    rank = max(1, -(-int(q * 1000) * len(sorted_values) // 1000))  # ceil(q * n), nearest rank
    return sorted_values[min(len(sorted_values), rank) - 1]


def quantiles(sorted_values):
    return " / ".join(fmt(quantile(sorted_values, q)) for q in (0.5, 0.99, 1.0))
