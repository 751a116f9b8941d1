"""Human report for a trained model: small PNG plots plus index.html and report.md.

Written next to the artifact as ``models/cyberscan-clf-vN-report/``.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np

DPI = 72


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def write_report(
    model_path: Path,
    card_path: Path,
    curves: dict[str, tuple[np.ndarray, np.ndarray]],
    threshold: float,
) -> Path:
    """Draw PR/ROC curves, confusion matrices and score histograms; return the folder."""
    from sklearn.metrics import confusion_matrix, precision_recall_curve, roc_curve

    plt = _plt()
    card = json.loads(Path(card_path).read_text(encoding="utf-8"))
    out = model_path.parent / f"{model_path.stem}-report"
    out.mkdir(parents=True, exist_ok=False)
    usable = {k: v for k, v in curves.items() if 0 < int(np.sum(v[0])) < len(v[0])}

    fig, ax = plt.subplots(figsize=(5.5, 4))
    for name, (y, p) in usable.items():
        prec, rec, thr = precision_recall_curve(y, p)
        ax.plot(rec, prec, label=name, lw=1.5)
        at = np.searchsorted(thr, threshold)
        if at < len(thr):
            ax.plot(rec[at], prec[at], "o", color=ax.lines[-1].get_color(), ms=5)
    ax.set(
        xlabel="recall (abuse caught)",
        ylabel="precision (flags that were right)",
        title=f"Precision-recall (dots: threshold {threshold})",
        xlim=(0, 1),
        ylim=(0, 1.02),
    )
    ax.legend(fontsize=7, loc="lower left")
    _save(fig, out / "precision_recall.png")

    fig, ax = plt.subplots(figsize=(5.5, 4))
    for name, (y, p) in usable.items():
        fpr, tpr, _ = roc_curve(y, p)
        ax.plot(fpr, tpr, label=name, lw=1.5)
    ax.plot([0, 1], [0, 1], ls=":", color="grey")
    ax.set(
        xlabel="false positive rate (clean text flagged)",
        ylabel="true positive rate",
        title="ROC curves (held-out data)",
    )
    ax.legend(fontsize=7, loc="lower right")
    _save(fig, out / "roc.png")

    names = list(curves)
    cols = min(3, len(names)) or 1
    rows = (len(names) + cols - 1) // cols or 1
    fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 2.8 * rows), squeeze=False)
    for ax in axes.flat[len(names) :]:
        ax.axis("off")
    for ax, name in zip(axes.flat, names, strict=False):
        y, p = curves[name]
        cm = confusion_matrix(y, (p >= threshold).astype(int), labels=[0, 1])
        ax.imshow(cm, cmap="Blues")
        for (i, j), v in np.ndenumerate(cm):
            ax.text(
                j,
                i,
                str(v),
                ha="center",
                va="center",
                color="white" if v > cm.max() / 2 else "black",
                fontsize=9,
            )
        ax.set_xticks([0, 1], ["clean", "flag"])
        ax.set_yticks([0, 1], ["clean", "abuse"])
        ax.set_title(name, fontsize=8)
    fig.suptitle(
        f"Confusion matrices at threshold {threshold} (rows: truth)", fontsize=9
    )
    _save(fig, out / "confusion.png")

    fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 2.4 * rows), squeeze=False)
    for ax in axes.flat[len(names) :]:
        ax.axis("off")
    bins = np.linspace(0, 1, 26)
    for ax, name in zip(axes.flat, names, strict=False):
        y, p = curves[name]
        ax.hist(p[y == 0], bins=bins, alpha=0.6, label="clean", color="tab:green")
        ax.hist(p[y == 1], bins=bins, alpha=0.6, label="abuse", color="tab:red")
        ax.axvline(threshold, color="black", ls="--", lw=1)
        ax.set_title(name, fontsize=8)
        ax.tick_params(labelsize=7)
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("Score histograms per class (dashed: threshold)", fontsize=9)
    _save(fig, out / "histograms.png")

    _write_pages(out, card, threshold)
    return out


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    _plt().close(fig)


def _table(card: dict, threshold: float) -> list[list[str]]:
    rows = [
        ["data", "n", "ROC AUC", "AP", "precision", "recall", "F1", "clean flagged"]
    ]
    sections = dict(card.get("held_out") or {})
    if card.get("chat_eval"):
        sections["chat_eval (hand-written, never trained on)"] = card["chat_eval"][
            "all"
        ]
    for name, m in sections.items():
        rows.append(
            [
                name,
                str(m["n"]),
                _fmt(m.get("roc_auc")),
                _fmt(m.get("average_precision")),
                _fmt(m["precision"]),
                _fmt(m["recall"]),
                _fmt(m["f1"]),
                _fmt(m["false_positive_rate"]),
            ]
        )
    return rows


def _fmt(v: float | None) -> str:
    return "–" if v is None else f"{v:.3f}"


def _write_pages(out: Path, card: dict, threshold: float) -> None:
    table = _table(card, threshold)
    plots = [
        (
            "precision_recall.png",
            "How many flags are right (precision) vs how much abuse is caught (recall).",
        ),
        ("roc.png", "Ranking quality: the closer to the top-left corner, the better."),
        (
            "confusion.png",
            "Counts at the threshold: top-right = clean text wrongly flagged.",
        ),
        (
            "histograms.png",
            "Where scores fall: green should sit left of the line, red right.",
        ),
    ]
    title = f"{card['version']} — model report"
    md = [
        f"# {title}",
        "",
        f"Threshold {threshold}; trained {card['created_at']} with "
        f"scikit-learn {card['sklearn_version']}. Held-out parts were never trained on.",
        "",
    ]
    md.append("| " + " | ".join(table[0]) + " |")
    md.append("|" + "---|" * len(table[0]))
    md += ["| " + " | ".join(r) + " |" for r in table[1:]]
    md.append("")
    for png, caption in plots:
        md += [f"![{caption}]({png})", "", caption, ""]
    (out / "report.md").write_text("\n".join(md), encoding="utf-8")

    cells = "".join(
        "<tr>"
        + "".join(
            f"<t{'h' if i == 0 else 'd'}>{html.escape(c)}</t{'h' if i == 0 else 'd'}>"
            for c in row
        )
        + "</tr>"
        for i, row in enumerate(table)
    )
    figures = "".join(
        f'<figure><img src="{png}" alt="{html.escape(cap)}"><figcaption>{html.escape(cap)}'
        "</figcaption></figure>"
        for png, cap in plots
    )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;max-width:980px;margin:2em auto;padding:0 1em}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}
td:first-child,th:first-child{{text-align:left}}figure{{display:inline-block;margin:1em}}
figcaption{{font-size:90%;color:#444;max-width:420px}}</style></head><body>
<h1>{html.escape(title)}</h1>
<p>Threshold <b>{threshold}</b>. Trained {html.escape(card["created_at"])} with scikit-learn
{html.escape(card["sklearn_version"])}. Held-out parts and the chat test set were never trained on.</p>
<table>{cells}</table>{figures}</body></html>
"""
    (out / "index.html").write_text(page, encoding="utf-8")
