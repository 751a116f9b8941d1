"""Human report of a trained model beside the served one: PNG plots, index.html, report.md.

Written next to the artifact as ``models/cyberscan-clf-vN-report/``.  Both models are
measured on the same data (the held-out parts and the development set); every plot
draws the new model in blue and the served model in orange, dashed.
"""

from __future__ import annotations

import html
import json
import textwrap
from pathlib import Path
from typing import Any

import numpy as np

DPI = 110
# The new model is drawn over the served one (zorder): where the curves coincide, the
# blue line shows through the orange dashes, and its filled dot inside the served
# model's ring.
NEW_STYLE = {"color": "#1f5fbf", "ls": "-", "lw": 1.8, "zorder": 3}
SERVED_STYLE = {"color": "#e07b00", "ls": "--", "lw": 1.6, "zorder": 2}
NEW_DOT = {"ms": 5, "zorder": 5}
SERVED_DOT = {"ms": 10, "mfc": "none", "mew": 1.6, "zorder": 4}
Curves = dict[str, tuple[np.ndarray, np.ndarray]]


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def write_report(
    model_path: Path,
    card_path: Path,
    curves: Curves,
    served: tuple[str, Curves] | None,
    threshold: float,
) -> Path:
    """Draw ROC and precision-recall panels and score histograms; return the folder."""
    card = json.loads(Path(card_path).read_text(encoding="utf-8"))
    out = model_path.parent / f"{model_path.stem}-report"
    out.mkdir(parents=True, exist_ok=False)
    new_name = card["version"]
    usable = [k for k, (y, _) in curves.items() if 0 < int(np.sum(y)) < len(y)]
    for kind, filename in (("roc", "roc.png"), ("pr", "precision_recall.png")):
        fig, title = _draw_curves(kind, usable, curves, served, new_name, threshold)
        _save(fig, out / filename, title)
    _histograms(out / "histograms.png", curves, new_name, threshold)
    _write_pages(out, card, threshold)
    return out


def _grid(n: int):
    plt = _plt()
    cols = min(3, n) or 1
    rows = (n + cols - 1) // cols or 1
    fig, axes = plt.subplots(
        rows, cols, figsize=(3.6 * cols, 3.2 * rows), squeeze=False
    )
    for ax in axes.flat[n:]:
        ax.axis("off")
    return fig, axes


def _at_threshold(y: np.ndarray, p: np.ndarray, threshold: float, kind: str):
    """Where a model sits at ``threshold`` on a ROC curve (clean flagged, abuse
    caught) or a precision-recall one (recall, precision; None when it flags
    nothing)."""
    flagged = p >= threshold
    caught = float(np.mean(flagged[y == 1]))
    if kind == "roc":
        return float(np.mean(flagged[y == 0])), caught
    return (caught, float(np.mean(y[flagged] == 1))) if flagged.any() else None


def _draw_curves(
    kind: str,
    names: list[str],
    curves: Curves,
    served: tuple[str, Curves] | None,
    new_name: str,
    threshold: float,
):
    """The figure of ROC (``kind`` "roc") or precision-recall ("pr") panels, one per
    data set, both models overlaid with a dot at the threshold; and its title."""
    from sklearn.metrics import auc, precision_recall_curve, roc_curve

    fig, axes = _grid(len(names))
    models = [(new_name, curves, NEW_STYLE, NEW_DOT)]
    if served is not None:
        models.append((served[0], served[1], SERVED_STYLE, SERVED_DOT))
    for ax, name in zip(axes.flat, names, strict=False):
        for label, data, style, dot in models:
            if name not in data:
                continue
            y, p = data[name]
            if kind == "roc":
                fpr, tpr, _ = roc_curve(y, p)
                ax.plot(fpr, tpr, label=f"{label} (AUC {auc(fpr, tpr):.3f})", **style)
            else:
                prec, rec, _ = precision_recall_curve(y, p)
                ax.plot(rec, prec, label=label, **style)
            at = _at_threshold(y, p, threshold, kind)
            if at is not None:
                ax.plot(*at, "o", color=style["color"], **dot)
        if kind == "roc":
            _roc_axes(ax)
        else:
            ax.set(xlabel="recall", ylabel="precision", ylim=(0, 1.02))
        ax.set_title(name, fontsize=9)
        ax.legend(fontsize=7, loc="lower right" if kind == "roc" else "lower left")
    what = "ROC" if kind == "roc" else "Precision-recall"
    return fig, (
        f"{what}: {new_name} (blue, solid) vs served (orange, dashed); "
        f"dots at threshold {threshold}"
    )


# A ROC panel's clean-flagged axis is linear up to ROC_LINEAR (1%) and logarithmic
# above it: the operating points of a moderation model lie at a few percent, which a
# linear axis squeezes against its left edge, and 0 must still show.
ROC_LINEAR = 0.01


def _roc_axes(ax) -> None:
    """Scale and label a ROC panel: symlog clean flagged, chance line, percent ticks."""
    from matplotlib.ticker import PercentFormatter

    ax.set_xscale("symlog", linthresh=ROC_LINEAR)
    ax.set_xlim(0, 1)
    chance = np.concatenate([[0.0], np.geomspace(ROC_LINEAR / 10, 1, 50)])
    ax.plot(chance, chance, ls=":", color="grey", lw=1)
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    ax.set(
        xlabel="clean flagged (FPR; log scale above 1%)",
        ylabel="abuse caught (TPR)",
    )


# Okabe-Ito bluish green and vermillion, told apart with every kind of colour vision;
# the abusive texts' bars are hatched too, for a print in grey.
CLEAN_STYLE = {"color": "#009e73", "label": "clean"}
ABUSE_STYLE = {"color": "#d55e00", "label": "abuse", "hatch": "///"}


def _histograms(path: Path, curves: Curves, new_name: str, threshold: float) -> None:
    fig, title = _draw_histograms(curves, new_name, threshold)
    _save(fig, path, title)


def _draw_histograms(curves: Curves, new_name: str, threshold: float):
    """The figure of the new model's scores per class, one panel per data set; and
    its title."""
    fig, axes = _grid(len(curves))
    bins = np.linspace(0, 1, 26)
    for ax, (name, (y, p)) in zip(axes.flat, curves.items(), strict=False):
        ax.hist(p[y == 0], bins=bins, alpha=0.6, **CLEAN_STYLE)
        ax.hist(p[y == 1], bins=bins, alpha=0.6, edgecolor="#8a3c00", **ABUSE_STYLE)
        ax.axvline(threshold, color="black", ls="--", lw=1)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("score", fontsize=8)
        ax.set_ylabel("texts", fontsize=8)
        ax.tick_params(labelsize=7)
    axes.flat[0].legend(fontsize=7)
    return fig, f"{new_name}: scores per class (dashed: threshold)"


def _save(fig, path: Path, title: str) -> None:
    _layout(fig, title)
    fig.savefig(path, dpi=DPI)
    _plt().close(fig)


def _layout(fig, title: str) -> None:
    """The title wrapped to the figure's width, above the panels (tight_layout alone
    lets it overlap the first row of a tall grid): about a sixth of an inch a line."""
    lines = textwrap.wrap(title, width=max(30, int(fig.get_figwidth() * 13)))
    height = fig.get_figheight()
    fig.suptitle("\n".join(lines), fontsize=9, y=1 - 0.05 / height, va="top")
    fig.tight_layout(rect=(0, 0, 1, 1 - (0.1 + 0.17 * len(lines)) / height))


def _fmt(v: float | None, pct: bool = False) -> str:
    if v is None:
        return "–"
    return f"{100 * v:.1f}%" if pct else f"{v:.3f}"


def _served_name(card: dict[str, Any]) -> str:
    """The served model's version, as the tables' columns name it."""
    return (card.get("served_model") or {}).get("version", "served")


def comparison_table(card: dict[str, Any]) -> list[list[str]]:
    """One row per data set: the new model's figures beside the served model's."""
    served = card.get("served_model") or {}
    old_name = _served_name(card)
    header = [
        "data",
        "n",
        f"ROC AUC {card['version']}",
        f"ROC AUC {old_name}",
        f"clean flagged {card['version']}",
        f"clean flagged {old_name}",
        f"abuse caught {card['version']}",
        f"abuse caught {old_name}",
    ]
    rows = [header]
    sections = {
        k: (v, (served.get("held_out") or {}).get(k))
        for k, v in card["held_out"].items()
    }
    if card.get("dev"):
        sections["dev_set (never trained on)"] = (
            card["dev"]["all"],
            (served.get("dev") or {}).get("all"),
        )
    for name, (m, o) in sections.items():
        o = o or {}
        rows.append(
            [
                name,
                str(m["n"]),
                _fmt(m.get("roc_auc")),
                _fmt(o.get("roc_auc")),
                _fmt(m["false_positive_rate"], True),
                _fmt(o.get("false_positive_rate"), True),
                _fmt(m["recall"], True),
                _fmt(o.get("recall"), True),
            ]
        )
    return rows


def _served_dev(card: dict[str, Any], key: str) -> dict[str, Any]:
    """The served model's development-set figures under ``key`` ({} when absent)."""
    return ((card.get("served_model") or {}).get("dev") or {}).get(key) or {}


def category_table(card: dict[str, Any]) -> list[list[str]]:
    """Development set per category: share flagged by the new and the served model."""
    if not card.get("dev"):
        return []
    served = _served_dev(card, "by_category")
    rows = [
        [
            "category",
            "label",
            "n",
            f"flagged {card['version']}",
            f"flagged {_served_name(card)}",
        ]
    ]
    for cat, m in card["dev"]["by_category"].items():
        o = served.get(cat, {})
        rows.append(
            [
                cat,
                str(m["label"]),
                str(m["n"]),
                _fmt(m["flagged_share"], True),
                _fmt(o.get("flagged_share"), True),
            ]
        )
    return rows


def address_table(card: dict[str, Any]) -> list[list[str]]:
    """Development set split by whether a text addresses its reader ("you", @mention)."""
    groups = (card.get("dev") or {}).get("by_address")
    if not groups:
        return []
    served = _served_dev(card, "by_address")
    v, old = card["version"], _served_name(card)
    rows = [
        [
            "texts",
            "clean",
            f"flagged {v}",
            f"flagged {old}",
            "abusive",
            f"caught {v}",
            f"caught {old}",
        ]
    ]
    for name, label in (
        ("addressed", "address the reader"),
        ("not_addressed", "do not"),
    ):
        m, o = groups[name], served.get(name, {})
        rows.append(
            [
                label,
                str(m["clean"]),
                _fmt(m["clean_flagged_share"], True),
                _fmt(o.get("clean_flagged_share"), True),
                str(m["abuse"]),
                _fmt(m["abuse_caught_share"], True),
                _fmt(o.get("abuse_caught_share"), True),
            ]
        )
    return rows


def _md(table: list[list[str]]) -> list[str]:
    if not table:
        return []
    return [
        "| " + " | ".join(table[0]) + " |",
        "|" + "---|" * len(table[0]),
        *("| " + " | ".join(r) + " |" for r in table[1:]),
        "",
    ]


def _html(table: list[list[str]]) -> str:
    def cell(i: int, c: str) -> str:
        tag = "th" if i == 0 else "td"
        return f"<{tag}>{html.escape(c)}</{tag}>"

    return (
        "<table>"
        + "".join(
            "<tr>" + "".join(cell(i, c) for c in row) + "</tr>"
            for i, row in enumerate(table)
        )
        + "</table>"
    )


PLOTS = [
    ("roc.png", "Ranking quality per data set; dots mark the threshold."),
    (
        "precision_recall.png",
        "How many flags are right (precision) vs how much abuse is caught (recall); "
        "dots mark the threshold.",
    ),
    (
        "histograms.png",
        "Where the new model's scores fall: clean texts (green) should sit left of "
        "the dashed line, abusive ones (orange, hatched) right of it.",
    ),
]


def _measured_on(card: dict[str, Any]) -> str:
    """What the tables measure, in a sentence: which rows, and for which model."""
    if not card["held_out"]:
        return (
            "Fitted on every row of every file (--holdout 0): only the development "
            "sets, never trained on, measure it, beside the served model."
        )
    served = card.get("served_model") or {}
    if served and not served.get("held_out"):
        return (
            "Held-out parts and the development set were never trained on; the served "
            "model was not split as this run was (it may have been fitted on these "
            "held-out rows), so it is measured on the development set only (–)."
        )
    return (
        "Held-out parts and the development set were never trained on; the served "
        "model is measured on the same rows."
    )


def _write_pages(out: Path, card: dict[str, Any], threshold: float) -> None:
    tables = [comparison_table(card), category_table(card), address_table(card)]
    title = f"{card['version']} — model report"
    intro = (
        f"Threshold {threshold}; trained {card['created_at']} with scikit-learn "
        f"{card['sklearn_version']}. {_measured_on(card)}"
    )
    md = [f"# {title}", "", intro, ""]
    for table in tables:
        md += _md(table)
    for png, caption in PLOTS:
        md += [f"![{caption}]({png})", "", caption, ""]
    (out / "report.md").write_text("\n".join(md), encoding="utf-8")
    figures = "".join(
        f'<figure><img src="{png}" alt="{html.escape(cap)}"><figcaption>'
        f"{html.escape(cap)}</figcaption></figure>"
        for png, cap in PLOTS
    )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;max-width:1150px;margin:2em auto;padding:0 1em}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}
td:first-child,th:first-child{{text-align:left}}figure{{margin:1em 0}}img{{max-width:100%}}
figcaption{{font-size:90%;color:#444}}</style></head><body>
<h1>{html.escape(title)}</h1><p>{html.escape(intro)}</p>
{"".join(_html(t) for t in tables if t)}{figures}</body></html>
"""
    (out / "index.html").write_text(page, encoding="utf-8")
