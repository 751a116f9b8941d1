"""Gated experts: the chat model, and one expert per corpus style behind a router.

    p(x) = sigmoid(e_0(x))                                     if a(x) < margin
    p(x) = (1 - s) sigmoid(e_0(x)) + s sum_k g_k(x) sigmoid(e_k(x))   otherwise,
           s = sigmoid(a(x)),  g = softmax(b_1(x) .. b_m(x)),  k = 1 .. m

``e_0`` is the chat model: one logistic regression on every training row, with the
project's label meanings and weights (what scores people's chat).  ``e_k`` is the
expert of corpus style k (``domain == k``): a logistic regression on that style's rows
only, with its own label meaning and balanced classes.  ``a`` ("does this read like a
corpus rather than chat", less ``chat_prior``) and ``b_k`` ("is it style k", among the
corpora) are L1 logistic regressions on the first ``route_columns`` features only (the
word block), so they stay small and the single-text scorer can compute ``a`` beside the
chat model; a text the router calls chat (``a < margin``) never needs the experts.  The
``b_k`` and ``e_k`` may be fitted on rescaled columns (``fit(column_scale=...)``); their
weights are mapped back, so every row still reads the features it is given.
``shift_`` moves the final logit (the operating point; ``train.train: fit_final``).
The last ``gate_columns`` features (``fit(gate_columns=...)``, the style tag block) are
read by the ``b_k`` alone, with weights fitted after everything else (:meth:`_fit_tags`),
so every other weight is what it would be without those columns.
``fit(expert_affine={k: (a, b)})`` replaces a fitted ``e_k`` by ``a e_k + b`` (its weights
and intercept): the same ranking within that expert, on another scale against the other
paths that score its corpus.
``fit(expert_borrow={k: {j: w}})`` fits ``e_k`` on style j's rows as well, with labels as
given, balanced within j and weighing ``w`` times style k's own rows in all.
The ``expert_columns`` features before the tag block (``fit(expert_columns=...)``, the
raw-character block) are read by the ``e_k`` alone: ``e_0`` and the routes weigh them 0.
``fit(function_columns=...)`` names the route columns whose terms are made of function
words only ("you", "and you", "for"): a text with at least one such term and no other
route column (a bare reply) is scored by the chat model alone, whatever ``a`` says.
``fit(short_terms=s)``: a text with at most ``s`` route columns (one or two words: "first",
"ladies first") is scored by the chat model alone too; too short to tell a style by.

The coefficient rows are ``[a, b_1 .. b_m, e_0, e_1 .. e_m]``; with no style rows
(m = 0) the model is the chat model alone (one row).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

# A probability is kept inside (0, 1) before it becomes a logit again.
_P_MIN, _P_MAX = 1e-300, 1.0 - 1e-16


def _balanced(target: np.ndarray, weight: np.ndarray | None = None) -> np.ndarray:
    """Sample weights (``weight``, default equal) scaled so that each class of a 0/1
    target has half the total weight."""
    weight = np.ones(len(target)) if weight is None else np.asarray(weight, dtype=float)
    pos = target == 1
    out = np.zeros(len(target))
    for mask in (pos, ~pos):
        total = weight[mask].sum()
        if total > 0:
            out[mask] = weight[mask] * (0.5 * len(target) / total)
    return out


def mix(
    rows: np.ndarray, margin: float, shift: float, bare: np.ndarray | None = None
) -> np.ndarray:
    """Final logits from decision rows (n x 2(m+1), laid out as in the module doc);
    the rows where ``bare`` is true get the chat model's logit."""
    if rows.shape[1] == 1:
        return rows[:, 0] + shift
    m1 = rows.shape[1] // 2
    route, styles, chat = rows[:, 0], rows[:, 1:m1], rows[:, m1]
    gate = np.exp(styles - styles.max(axis=1, keepdims=True))
    gate /= gate.sum(axis=1, keepdims=True)
    experts = (gate / (1.0 + np.exp(-rows[:, m1 + 1 :]))).sum(axis=1)
    s = 1.0 / (1.0 + np.exp(-route))
    p = np.clip((1.0 - s) / (1.0 + np.exp(-chat)) + s * experts, _P_MIN, _P_MAX)
    mixed = np.log(p) - np.log1p(-p)
    chat_only = route < margin if bare is None else (route < margin) | bare
    return np.where(chat_only, chat, mixed) + shift


def mix_one(row: list[float], margin: float, shift: float) -> float:
    """:func:`mix` for one text, in plain Python (what the single-text scorer needs)."""
    if len(row) == 1 or row[0] < margin:
        return row[len(row) // 2] + shift
    m1 = len(row) // 2
    top = max(row[1:m1])
    gates = [math.exp(r - top) for r in row[1:m1]]
    experts = sum(
        g / (1.0 + math.exp(-e)) for g, e in zip(gates, row[m1 + 1 :], strict=True)
    ) / sum(gates)
    s = 1.0 / (1.0 + math.exp(-row[0]))
    p = (1.0 - s) / (1.0 + math.exp(-row[m1])) + s * experts
    p = min(max(p, _P_MIN), _P_MAX)
    return math.log(p) - math.log1p(-p) + shift


def _check_expert_settings(
    affine: dict[int, tuple[float, float]], borrow: dict[int, dict[int, float]]
) -> None:
    """Refuse, before any fitting, settings for an expert that does not exist (style
    0, chat, has none) or borrowing from chat rows or from the expert's own style."""
    if any(k < 1 for k in affine):
        raise ValueError(
            f"expert_affine: only corpus styles (>= 1) have experts, got {sorted(affine)}"
        )
    for k, rows in borrow.items():
        if k < 1 or any(j < 1 or j == k for j in rows):
            raise ValueError(
                f"expert_borrow: expert {k} can borrow only other corpus styles (>= 1), "
                f"got {sorted(rows)}"
            )


class GatedExperts(ClassifierMixin, BaseEstimator):
    """The mixture above as a scikit-learn classifier (fit with ``domain=``)."""

    def __init__(
        self,
        C: float = 0.5,
        expert_C: float = 2.0,
        route_C: float = 4.0,
        chat_prior: float = 0.0,
        margin: float = -2.0,
        max_iter: int = 2000,
        random_state: int = 42,
    ) -> None:
        self.C = C
        self.expert_C = expert_C
        self.route_C = route_C
        self.chat_prior = chat_prior
        self.margin = margin
        self.max_iter = max_iter
        self.random_state = random_state

    def _lr(self, c: float, penalty: str = "l2") -> LogisticRegression:
        kw = {"l1_ratio": 1.0} if penalty == "l1" else {}
        return LogisticRegression(
            C=c,
            solver="liblinear",
            max_iter=self.max_iter,
            random_state=self.random_state,
            **kw,
        )

    def _route(
        self,
        X,  # noqa: N803
        target: np.ndarray,
        n: int,
        weight: np.ndarray | None = None,
    ) -> tuple[np.ndarray, float]:
        """An L1 route on the first ``n`` columns, as a full-width coefficient row."""
        fitted = self._lr(self.route_C, "l1").fit(
            X[:, :n], target, _balanced(target, weight)
        )
        coef = np.zeros(X.shape[1])
        coef[:n] = fitted.coef_[0]
        return coef, float(fitted.intercept_[0])

    def fit(  # noqa: PLR0913
        self,
        X,  # noqa: N803
        y,
        sample_weight=None,
        domain=None,
        route_columns=None,
        route_weight=None,
        column_scale=None,
        gate_columns=None,
        expert_affine=None,
        expert_borrow=None,
        expert_columns=None,
        function_columns=None,
        short_terms=0,
    ):
        """Fit the chat model on every row, then the routers and the style experts.

        ``domain``: 0 for chat rows, k >= 1 for rows of corpus style k (default: all
        chat).  ``route_columns``: how many leading features the routers see (default
        all).  ``route_weight``: relative row weights for ``a`` within each side
        (default equal; each side gets half the total either way).
        ``column_scale``: one factor per column; the style routes ``b_k`` and experts
        ``e_k`` are fitted on ``X`` with each column multiplied by its factor, and their
        weights are multiplied by the same factors, so the fitted model reads ``X``
        (default: fitted on ``X`` itself).  ``train.train`` uses it to fit them on the
        TF-IDF features before the chat labels' naive-Bayes scaling.
        ``gate_columns``: how many trailing features only the style gate reads
        (default none); everything else is fitted without them.
        ``expert_affine``: ``{k: (a, b)}``, the fitted expert of style k becomes
        ``a e_k + b`` (default none); ``train.train: EXPERT_AFFINE``.
        ``expert_borrow``: ``{k: {j: w}}``, the expert of style k is fitted on the rows of
        style j too, balanced within j, with ``w`` times the total weight of style k's
        own rows (default none); ``train.train: EXPERT_BORROW``.
        ``expert_columns``: how many features just before the ``gate_columns`` only the
        experts ``e_k`` read (default none): the chat model and the routes are fitted
        without them and weigh them 0.
        ``function_columns``: the route columns whose terms are function words only
        (default none); a row with one of them and no other route column is scored
        by the chat model alone (:meth:`bare`).  Fitting is the same either way.
        ``short_terms``: a row with at most this many route columns is scored by the
        chat model alone as well (:meth:`bare`; default 0, none).  Fitting is the same
        either way.
        """
        X = sp.csr_matrix(X)  # noqa: N806
        y = np.asarray(y)
        domain = np.zeros(len(y), dtype=int) if domain is None else np.asarray(domain)
        _check_expert_settings(expert_affine or {}, expert_borrow or {})
        width = X.shape[1]
        tags = 0 if gate_columns is None else int(gate_columns)
        T = X[:, width - tags :] if tags else None  # noqa: N806
        X = X[:, : width - tags] if tags else X  # noqa: N806
        shared = X.shape[1] - (0 if expert_columns is None else int(expert_columns))
        n = shared if route_columns is None else min(int(route_columns), shared)
        chat = self._lr(self.C).fit(
            X[:, :shared] if shared < X.shape[1] else X, y, sample_weight=sample_weight
        )
        chat_coef = np.zeros(X.shape[1])
        chat_coef[:shared] = chat.coef_[0]
        coef, intercept = [chat_coef], [float(chat.intercept_[0])]
        styles = sorted(set(domain.tolist()) - {0})
        if styles:
            corpus = domain > 0
            scale = (
                np.ones(X.shape[1])
                if column_scale is None
                else np.asarray(column_scale, dtype=float)[: X.shape[1]]
            )
            scaled = X if column_scale is None else sp.csr_matrix(X @ sp.diags(scale))
            routes = [self._route(X, corpus.astype(int), n, route_weight)]
            routes[0] = (routes[0][0], routes[0][1] - self.chat_prior)
            corpus_rows, corpus_domain = scaled[corpus], domain[corpus]
            for k in styles:
                c, i = self._route(corpus_rows, (corpus_domain == k).astype(int), n)
                routes.append((c * scale, i))
            experts = []
            for k in styles:
                rows, weight = self._expert_rows(
                    y, domain, k, (expert_borrow or {}).get(k, {})
                )
                fitted = self._lr(self.expert_C).fit(scaled[rows], y[rows], weight)
                a, b = (expert_affine or {}).get(k, (1.0, 0.0))
                experts.append(
                    (fitted.coef_[0] * (scale * a), a * float(fitted.intercept_[0]) + b)
                )
            pairs = [*routes, (coef[0], intercept[0]), *experts]
            coef = [c for c, _ in pairs]
            intercept = [i for _, i in pairs]
        # float32 weights keep the artifact small; every path computes with these values.
        weights = np.vstack(coef).astype(np.float32)
        if tags:
            extra = np.zeros((len(weights), tags), dtype=np.float32)
            if styles:
                extra[1 : len(styles) + 1] = self._fit_tags(
                    X[corpus], T[corpus], corpus_domain, weights, intercept, styles
                ).T.astype(np.float32)
            weights = np.hstack([weights, extra])
        self.coef_ = sp.csr_matrix(weights)
        self.coef_.eliminate_zeros()
        self.intercept_ = np.array(intercept, dtype=np.float64)
        self.styles_ = styles
        self.route_columns_ = n
        self.gate_columns_ = tags
        self.expert_columns_ = X.shape[1] - shared
        self.function_columns_ = (
            None
            if function_columns is None
            else np.unique(np.asarray(function_columns, dtype=np.int64))
        )
        self.short_terms_ = int(short_terms)
        self.shift_ = 0.0
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = width
        return self

    @staticmethod
    def _expert_rows(
        y: np.ndarray, domain: np.ndarray, k: int, borrow: dict[int, float]
    ) -> tuple[np.ndarray, np.ndarray]:
        """The rows expert k is fitted on (style k's, then each borrowed style's with a
        weight above 0) and their sample weights: balanced within each style, the
        borrowed ones scaled to ``w`` times style k's total."""
        own = np.flatnonzero(domain == k)
        parts, weights = [own], [_balanced(y[own])]
        for j, share in sorted(borrow.items()):
            rows = np.flatnonzero(domain == j)
            if share <= 0 or not len(rows):
                continue
            parts.append(rows)
            weights.append(_balanced(y[rows]) * share * len(own) / len(rows))
        return np.concatenate(parts), np.concatenate(weights)

    def _fit_tags(  # noqa: PLR0913
        self,
        X,  # noqa: N803
        T,  # noqa: N803
        domain: np.ndarray,
        weights: np.ndarray,
        intercept: list[float],
        styles: list[int],
    ) -> np.ndarray:
        """The tag columns' weights in each style gate ``b_k``, with the fitted gate
        logits as a fixed offset: ``route_C`` times the balanced logistic loss of "is
        style k" over the corpus rows, plus half the squared weights (one small convex
        problem per style).  Returns a tags x m array."""
        rows = slice(1, len(styles) + 1)
        offset = X @ weights[rows].astype(np.float64).T + np.asarray(intercept[rows])
        tags = T.toarray()
        out = np.zeros((tags.shape[1], len(styles)))
        for i, k in enumerate(styles):
            target = (domain == k).astype(int)
            w = self.route_C * _balanced(target)
            sign = 2.0 * target - 1.0
            base = np.asarray(offset[:, i]).ravel()

            def loss(v, base=base, w=w, sign=sign):
                z = sign * (base + tags @ v)
                grad = -w * sign / (1.0 + np.exp(z))
                return w @ np.logaddexp(0.0, -z) + 0.5 * v @ v, tags.T @ grad + v

            out[:, i] = minimize(
                loss, np.zeros(tags.shape[1]), jac=True, method="L-BFGS-B"
            ).x
        return out

    def decision_rows(self, X) -> np.ndarray:  # noqa: N803
        """Every route and expert logit: n x 2(m+1) (or n x 1 with no styles)."""
        product = X @ self.coef_.T.astype(np.float64)
        dense = product.toarray() if sp.issparse(product) else np.asarray(product)
        return dense + self.intercept_

    def bare(self, X) -> np.ndarray | None:  # noqa: N803
        """Which rows the chat model scores alone, whatever the router says: those that
        hold function-word route terms only, at least one, and those with at most
        ``short_terms_`` route terms (None when the model was fitted with neither)."""
        columns = getattr(self, "function_columns_", None)  # None before v31
        short = getattr(self, "short_terms_", 0)  # 0 before v45
        if columns is None and not short:
            return None
        words = sp.csr_matrix(X)[:, : self.route_columns_]
        present = words.getnnz(axis=1)
        alone = (present <= short) if short else np.zeros(len(present), dtype=bool)
        if columns is not None:
            alone |= (present > 0) & (words[:, columns].getnnz(axis=1) == present)
        return alone

    def decision_function(self, X) -> np.ndarray:  # noqa: N803
        """The final logit of each row."""
        return mix(self.decision_rows(X), self.margin, self.shift_, self.bare(X))

    def predict_proba(self, X) -> np.ndarray:  # noqa: N803
        p = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1.0 - p, p])

    def predict(self, X) -> np.ndarray:  # noqa: N803
        return (self.decision_function(X) > 0).astype(int)
