"""What both engines run, engine-neutral and pure but for the embedder they are given:
the verification of a batch of candidate pairs (`judge_pairs`) and its settings.

`dedup.pipeline` (the local engine) calls it over a run's candidates read from the store;
`dedup.engines.spark` calls it per partition. A rule changed here changes both, so the
Spark engine's tables stay equal to the local engine's, table for table.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from dedup.align import AlignConfig
from dedup.score import ScoreConfig, SideText, finish_comparison, lexical_alignment, sentences_to_embed
from dedup.templates import Holders


@dataclass(frozen=True, slots=True)
class VerifyOptions:
    align: AlignConfig = field(default_factory=AlignConfig)
    score: ScoreConfig = field(default_factory=ScoreConfig)
    device: str = "cpu"
    """Where the embedding model runs: cpu or cuda."""
    embed: bool = True
    """False: lexical alignment only (no model, no paraphrases)."""


def judge_pairs(
    pairs: list[tuple[int, int]],
    sides: dict[int, SideText],
    rank: dict[int, tuple[bool, float, bool, int]],
    options: VerifyOptions,
    encode: Callable[[list[str]], np.ndarray],
    run_id: int,
    holders: Mapping[int, Holders] | None = None,
) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]], dict[str, int], int, int]:
    """Verdicts for candidate pairs (pure but for `encode`): the rows of `pairs` and
    `alignments`, counts per relation, sentences compared, distinct sentences embedded.

    Both engines call this: the local one over a run's candidates, Spark per partition.
    Three passes so that the model sees one batch: lexical alignment of every pair, one
    `encode` of every distinct open sentence of the anchored pairs, then paraphrase
    matching and scoring. `rank` (from `cluster.origin_rank`) says which side came first.
    `holders` (`Store.template_holders`) marks each pair's template sentences as of its
    later article.
    """
    cutoff = {(a, b): max(a, b) for a, b in pairs}
    marked = {
        pair: (
            sides[pair[0]].with_templates(holders or {}, c),
            sides[pair[1]].with_templates(holders or {}, c),
        )
        for pair, c in cutoff.items()
    }
    lexical = [lexical_alignment(*marked[a, b], options.align) for a, b in pairs]
    wanted = [
        sentences_to_embed(al, *marked[a, b], options.align, options.score) if options.embed else ([], [])
        for al, (a, b) in zip(lexical, pairs, strict=True)
    ]
    distinct: dict[str, int] = {}
    for (open_a, open_b), (a, b) in zip(wanted, pairs, strict=True):
        for i in open_a:
            distinct.setdefault(sides[a].sentences[i], len(distinct))
        for j in open_b:
            distinct.setdefault(sides[b].sentences[j], len(distinct))
    vectors = encode(list(distinct)) if distinct else np.zeros((0, 384), dtype=np.float32)
    rows: list[tuple[object, ...]] = []
    alignment_rows: list[tuple[object, ...]] = []
    counts = dict.fromkeys(("duplicate", "rewrite", "partial", "none"), 0)
    sentences = 0
    for al, (open_a, open_b), (a, b) in zip(lexical, wanted, pairs, strict=True):
        sa, sb = marked[a, b]
        va = vectors[[distinct[sa.sentences[i]] for i in open_a]] if open_a else None
        vb = vectors[[distinct[sb.sentences[j]] for j in open_b]] if open_b else None
        result = finish_comparison(al, sa, sb, va, vb, options.align, options.score)
        later_containment = result.containment_b if rank[a] < rank[b] else result.containment_a
        if result.relation == "rewrite" and later_containment < options.score.rewrite_containment:
            # The earlier article is the one contained: the later one took it whole and added
            # other material, so the later one is a partial copy, not a rewrite (and with no
            # text shared word for word, paraphrase alone, no reuse at all).
            lexical_enough = result.shares.get("lexical_chars", 0.0) >= options.score.partial_min_chars
            result = dataclasses.replace(result, relation="partial" if lexical_enough else "none")
        counts[result.relation] += 1
        sentences += len(sa.sentences) + len(sb.sentences)
        rows.append(
            (a, b, result.relation, result.score, result.containment_a, result.containment_b,
             json.dumps(result.shares, sort_keys=True), run_id)
        )  # fmt: skip
        if result.relation != "none":
            for x in result.alignments:
                edits = [[e.op, e.a_start, e.a_end, e.b_start, e.b_end] for e in x.edits]
                alignment_rows.append((a, b, x.a_index, x.b_index, x.kind, x.score, json.dumps(edits)))
    return rows, alignment_rows, counts, sentences, len(distinct)
