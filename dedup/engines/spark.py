"""The Spark engine: the same stage functions as the local engine, mapped over partitions.

    input lines/rows --mapPartitions--> build_article (normalise, segment)        [pure]
    versions and keys: first occurrence of each (id, content), in input order      [Spark SQL]
    fingerprint (shingles, MinHash, band keys)  --mapPartitions-->                 [pure]
    candidates: exact hashes and LSH buckets joined, over-popular buckets capped   [Spark SQL,
                with the rules of `Store.find_candidates`, key order and all]
    estimates (Jaccard, containment) and verdicts (`pipeline.judge_pairs`, the
                model loaded once per executor process)  --mapPartitions-->        [pure]
    -> Parquet tables with the store's schema, one file set per table

`dedup import-results DIR` (or `dedup ingest --engine spark`, which does both) loads the
tables into a new DuckDB file and builds clusters and provenance there with the local
code: the strong-pair edge list is collected on one machine (it is small: pairs, not
articles), which is where clustering is cheap; GraphFrames is not available offline.

Scope: one Spark run makes a new database (the local engine adds day after day); input is
JSON lines (`.jsonl`, gzip ok), Parquet, or the articles of an existing dedup database.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

import numpy as np

from dedup.cluster import Node, origin_rank
from dedup.fingerprint import IndexConfig, fingerprint
from dedup.ingest import FieldMap, build_article
from dedup.ingest.readers import RawRecord, parse_json_line
from dedup.minhash import containment_many, jaccard_many
from dedup.model import Article, Reject
from dedup.score import SideText
from dedup.semantic import LEDE_TOKENS, lede_if_long_enough, lede_vectors, nearest
from dedup.stages import VerifyOptions, judge_pairs
from dedup.templates import MIN_ARTICLES, Holders

LOCAL_SETTINGS = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "8",
}


def session(master: str = "local[2]", app: str = "dedup") -> Any:
    """A SparkSession with the settings a laptop needs (no UI, loopback only)."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # executors run this very Python
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(master).appName(app)
    for key, value in LOCAL_SETTINGS.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


@dataclass(frozen=True, slots=True)
class SparkOptions:
    fields: FieldMap = field(default_factory=FieldMap)
    source: str = ""
    max_chars: int = 2_000_000
    partitions: int = 8
    index_config: IndexConfig = field(default_factory=IndexConfig)
    verify: VerifyOptions = field(default_factory=VerifyOptions)


@dataclass(frozen=True, slots=True)
class SparkSummary:
    read: int
    stored: int
    rejected: int
    candidates: int
    pairs: int
    out: Path


# -- per-partition functions (run on executors) ---------------------------------------------


def _articles_of(
    rows: Iterator[tuple[int, str, int, Any]], fields: FieldMap, source: str, max_chars: int
) -> Iterator[tuple[Any, ...]]:
    """(order, kind, payload): `a` with a pickled Article, or `r` with a Reject."""
    import pickle

    for order, name, line, data in rows:
        items: list[RawRecord | Reject] = (
            parse_json_line(name, line, data)
            if isinstance(data, str)
            else [RawRecord(name, line, data, json.dumps(data, default=str)[:64_000])]
        )
        for item in items:  # a line holding an array or envelope: its records share its order
            at = order
            if isinstance(item, Reject):
                yield at, "r", pickle.dumps(item), "", ""
                continue
            article, problems = build_article(item, fields, default_outlet=source, max_chars=max_chars)
            for problem in problems:
                yield at, "r", pickle.dumps(problem), "", ""
            if article is not None:
                yield at, "a", pickle.dumps(article), article.article_id, article.content_hash


def _fingerprints(rows: Iterator[Any], config: IndexConfig) -> Iterator[tuple[str, tuple[Any, ...]]]:
    import pickle

    items = []
    for key, blob in rows:
        article: Article = pickle.loads(blob)
        items.append(
            (key, article.body, tuple((p.index, p.start, p.end, p.role) for p in article.paragraphs))
        )
    for start in range(0, len(items), 2000):
        fp = fingerprint(items[start : start + 2000], config)
        for i, key in enumerate(fp.article_key.tolist()):
            sig = fp.signature[i].tobytes() if fp.shingles[i] else None
            yield "signatures", (key, int(fp.exact[i].astype(np.int64)), int(fp.shingles[i]), sig)
            if fp.shingles[i]:
                for band, value in enumerate(fp.doc_bands[i].astype(np.int64).tolist()):
                    yield "doc_bands", (key, band, value)
        for q, key in enumerate(fp.passage_article.tolist()):
            paragraph = int(fp.passage_paragraph[q])
            yield (
                "passages",
                (key, paragraph, int(fp.passage_exact[q].astype(np.int64)), int(fp.passage_tokens[q])),
            )
            for band, value in enumerate(fp.passage_bands[q].astype(np.int64).tolist()):
                yield "passage_bands", (key, paragraph, band, value)


def _estimates(partition: Iterator[Any], num_perm: int) -> Iterator[tuple[Any, ...]]:
    rows = list(partition)
    if not rows:
        return
    empty = np.full(num_perm, 0xFFFFFFFF, dtype=np.uint32).tobytes()
    sa = np.frombuffer(b"".join(r["sig_a"] or empty for r in rows), dtype=np.uint32).reshape(
        len(rows), num_perm
    )
    sb = np.frombuffer(b"".join(r["sig_b"] or empty for r in rows), dtype=np.uint32).reshape(
        len(rows), num_perm
    )
    size_a = np.array([r["size_a"] for r in rows], dtype=np.int64)
    size_b = np.array([r["size_b"] for r in rows], dtype=np.int64)
    jac = jaccard_many(sa, sb)
    ca, cb = containment_many(jac, size_a, size_b), containment_many(jac, size_b, size_a)
    for i, r in enumerate(rows):
        exact = bool(r["via_exact"])
        yield (
            r["a"], r["b"], exact, bool(r["via_document"]), bool(r["via_passage"]),
            1.0 if exact else float(jac[i]), 1.0 if exact else float(ca[i]), 1.0 if exact else float(cb[i]),
            int(r["passage_pairs"] or 0), bool(r["same_outlet"]),
        )  # fmt: skip


_MODEL: list[Any] = []


def _verdicts(
    rows: Iterator[Any], options: VerifyOptions, holders: dict[int, Holders]
) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """Judge a partition of candidate pairs; the model is loaded once per executor process."""
    import pickle

    from dedup.store import utc_naive

    pairs, sides, rank = [], {}, {}
    for r in rows:
        for key, blob in ((r["a"], r["article_a"]), (r["b"], r["article_b"])):
            if key not in sides:
                article: Article = pickle.loads(blob)
                sides[key] = SideText.of(article)
                rank[key] = origin_rank(Node(key, utc_naive(article.published), article.wire))
        pairs.append((r["a"], r["b"]))

    def encode(sentences: list[str]) -> np.ndarray:
        if not _MODEL:
            from dedup.embed import MiniLMEmbedder

            _MODEL.append(MiniLMEmbedder(options.device))
        return _MODEL[0].encode(sentences)

    out, alignments, _, _, _ = judge_pairs(pairs, sides, rank, options, encode, 0, holders)
    for row in out:
        yield "pairs", row[:7]
    for row in alignments:
        yield "alignments", row


def _template_holders(sentences: Any) -> dict[int, Holders]:
    """The holders of every sentence of the input held by `templates.MIN_ARTICLES` or
    more articles, as the local engine's `Store.template_holders` finds them."""
    from pyspark.sql import functions as F

    common = sentences.groupBy("sentence_key").agg(F.countDistinct("article_key").alias("n"))
    rows = (
        sentences.join(common.where(F.col("n") >= MIN_ARTICLES), "sentence_key")
        .select("sentence_key", "article_key", "context_key")
        .collect()
    )
    grouped: dict[int, list[tuple[int, int]]] = {}
    for r in rows:
        grouped.setdefault(int(r["sentence_key"]), []).append((int(r["article_key"]), int(r["context_key"])))
    return {k: Holders.of(v) for k, v in grouped.items()}


def _semantic_pairs(
    spark: Any, keyed: Any, candidates: Any, config: IndexConfig, verify: VerifyOptions
) -> tuple[list[tuple[int, int]], list[tuple[int, bytes, float]]]:
    """The local engine's semantic candidates (`dedup.semantic`) for the whole input: lede
    vectors of the articles no lexical candidate pairs with an earlier one, embedded on the
    driver, each paired with its nearest earlier vectors. ((a, b) pairs, (key, vector, time))."""
    import pickle

    if config.semantic_neighbors <= 0:
        return [], []
    paired = {int(r["b"]) for r in candidates.select("b").distinct().collect()}
    lines = config.lede_sentences

    def ledes(x: tuple[int, bytes]) -> list[tuple[int, list[str], float]]:
        key, blob = x
        if key in paired:
            return []
        article: Article = pickle.loads(blob)
        side = SideText.of(article)
        chosen = lede_if_long_enough(side.sentences, side.countable, lines)
        if not chosen:
            return []
        from dedup.store import utc_naive

        moment = utc_naive(article.published)  # as DuckDB's epoch() reads published_utc
        when = float("nan") if moment is None else moment.replace(tzinfo=UTC).timestamp()
        return [(key, [side.sentences[i] for i in chosen], when)]

    found = sorted(keyed.flatMap(ledes).collect())
    if not found:
        return [], []
    from dedup.embed import MiniLMEmbedder

    model = MiniLMEmbedder(verify.device, max_tokens=LEDE_TOKENS)
    matrix = lede_vectors([sentences for _, sentences, _ in found], model.encode)
    keys = np.array([k for k, _, _ in found], dtype=np.int64)
    times = np.array([t for _, _, t in found], dtype=np.float64)
    window = None if config.window_days is None else config.window_days * 86400.0
    pairs = nearest(
        matrix, keys, [(keys, matrix, times)], k=config.semantic_neighbors, floor=config.semantic_floor,
        query_times=times, window_seconds=window,
    )  # fmt: skip
    rows = [(int(k), matrix[i].tobytes(), float(times[i])) for i, k in enumerate(keys)]
    return [(a, b) for a, b, _ in pairs], rows


# -- the driver ----------------------------------------------------------------------------


def _input_rows(spark: Any, paths: list[str], partitions: int) -> Any:
    """(order, file, line, text-or-dict) for every input record, `order` giving input order."""
    sc = spark.sparkContext
    rdds = []
    for f, path in enumerate(paths):
        if path.endswith(".parquet") or Path(path).is_dir():
            df = spark.read.parquet(path)
            rdd = df.rdd.zipWithIndex().map(
                lambda x, f=f, p=path: ((f, x[1] + 1), p, x[1] + 1, x[0].asDict())
            )
        elif path.endswith(".duckdb"):
            from dedup.store import Store

            with Store.open(path, read_only=True) as store:
                records = store.feed_records()
            rdd = sc.parallelize(list(enumerate(records, start=1)), partitions).map(
                lambda x, f=f, p=path: ((f, x[0]), p, x[0], x[1])
            )
        else:
            rdd = (
                sc.textFile(path, partitions)
                .zipWithIndex()
                .map(lambda x, f=f, p=path: ((f, x[1] + 1), p, x[1] + 1, x[0]))
            )
        rdds.append(rdd)
    return sc.union(rdds).filter(lambda x: not isinstance(x[3], str) or x[3].strip())


def run(spark: Any, paths: list[str], out: Path, options: SparkOptions = SparkOptions()) -> SparkSummary:
    """Run every stage on Spark and write the store's tables as Parquet under `out`."""
    import pickle

    from pyspark.sql.types import (
        BinaryType,
        BooleanType,
        DoubleType,
        IntegerType,
        LongType,
        StringType,
        StructField,
        StructType,
    )

    options.index_config.validate()
    config, cap = options.index_config, options.index_config.max_bucket
    fields, source, max_chars = options.fields, options.source, options.max_chars
    records = _input_rows(spark, paths, options.partitions)
    read = records.count()
    built = records.mapPartitions(
        lambda rows: _articles_of(((o, n, line, d) for o, n, line, d in rows), fields, source, max_chars)
    )
    built = built.map(lambda x: (x[0][0], x[0][1], x[1], x[2], x[3], x[4]))
    schema = StructType([
        StructField("file_no", IntegerType()), StructField("line_no", LongType()), StructField("kind", StringType()),
        StructField("payload", BinaryType()), StructField("article_id", StringType()), StructField("content_hash", StringType()),
    ])  # fmt: skip
    items = spark.createDataFrame(built, schema).cache()
    rejects = items.where("kind = 'r'")
    # Versions and keys, as the local engine assigns them to a new database: in input order,
    # the first occurrence of an (id, content) is stored; a later different content under the
    # same id is the next version; a repeat of any earlier content is unchanged.
    items.where("kind = 'a'").createOrReplaceTempView("built")
    firsts = spark.sql(
        """
        SELECT * FROM (
            SELECT *, row_number() OVER (PARTITION BY article_id, content_hash ORDER BY file_no, line_no) AS n
            FROM built) WHERE n = 1
        """
    )
    firsts.createOrReplaceTempView("firsts")
    numbered = spark.sql(
        """
        SELECT payload, file_no, line_no,
               row_number() OVER (PARTITION BY article_id ORDER BY file_no, line_no) AS version
        FROM firsts
        """
    )
    ordered = numbered.rdd.sortBy(
        lambda r: (r["file_no"], r["line_no"]), numPartitions=options.partitions
    ).zipWithIndex()

    def with_key(x: Any) -> tuple[int, bytes]:
        row, index = x
        article: Article = pickle.loads(row["payload"])
        if row["version"] > 1:
            import dataclasses

            article = dataclasses.replace(article, version=row["version"])
        return index + 1, pickle.dumps(article)

    keyed = ordered.map(with_key).cache()
    stored = keyed.count()
    articles = spark.createDataFrame(
        keyed, StructType([StructField("article_key", LongType()), StructField("article", BinaryType())])
    ).cache()
    articles.createOrReplaceTempView("arts")

    out.mkdir(parents=True, exist_ok=True)

    def write(name: str, df: Any) -> None:
        df.write.mode("overwrite").parquet(str(out / name))

    from dedup.store import utc_naive

    def article_row(x: tuple[int, bytes]) -> tuple[Any, ...]:
        key, blob = x
        a: Article = pickle.loads(blob)
        return (key, a.article_id, a.version, a.content_hash, a.title, a.outlet, a.byline, a.url,
                a.published.isoformat() if a.published else None, utc_naive(a.published), a.wire, a.dateline,
                a.is_summary, a.body, a.extra, a.source_file, a.source_line)  # fmt: skip

    from pyspark.sql.types import TimestampNTZType

    article_schema = StructType([
        StructField("article_key", LongType()), StructField("article_id", StringType()), StructField("version", IntegerType()),
        StructField("content_hash", StringType()), StructField("title", StringType()), StructField("outlet", StringType()),
        StructField("byline", StringType()), StructField("url", StringType()), StructField("published", StringType()),
        StructField("published_utc", TimestampNTZType()), StructField("wire", StringType()), StructField("dateline", StringType()),
        StructField("is_summary", BooleanType()), StructField("body", StringType()), StructField("extra", StringType()),
        StructField("source_file", StringType()), StructField("source_line", LongType()),
    ])  # fmt: skip
    meta = spark.createDataFrame(keyed.map(article_row), article_schema).cache()
    write("articles", meta)
    write("paragraphs", spark.createDataFrame(
        keyed.flatMap(lambda x: [(x[0], p.index, p.start, p.end, p.role) for p in pickle.loads(x[1]).paragraphs]),
        "article_key long, paragraph int, start_char int, end_char int, role string"))  # fmt: skip
    sentences = spark.createDataFrame(
        keyed.flatMap(lambda x: [(x[0], s.index, s.paragraph, s.start, s.end, s.key, s.context)
                                 for s in pickle.loads(x[1]).sentences]),
        "article_key long, sentence int, paragraph int, start_char int, end_char int, sentence_key long, "
        "context_key long").cache()  # fmt: skip
    write("sentences", sentences)
    reject_rows = rejects.rdd.map(lambda r: pickle.loads(r["payload"])).map(
        lambda j: (j.file, j.line, j.field, j.reason, j.raw, j.action)
    )
    write(
        "rejects",
        spark.createDataFrame(
            reject_rows, "file string, line long, field string, reason string, raw string, action string"
        ),
    )
    n_rejected = rejects.rdd.filter(lambda r: pickle.loads(r["payload"]).action == "rejected").count()

    # -- fingerprints ------------------------------------------------------------------------
    fp = keyed.mapPartitions(lambda rows: _fingerprints(rows, config)).cache()
    tables = {
        "signatures": "article_key long, exact_hash long, shingles int, signature binary",
        "doc_bands": "article_key long, band int, key long",
        "passages": "article_key long, paragraph int, exact_hash long, tokens int",
        "passage_bands": "article_key long, paragraph int, band int, key long",
    }
    for name, ddl in tables.items():
        df = spark.createDataFrame(fp.filter(lambda x, n=name: x[0] == n).map(lambda x: x[1]), ddl)
        df.createOrReplaceTempView(name)
        write(name, df)
    meta.createOrReplaceTempView("articles")

    # -- candidates: Store.find_candidates, every article new --------------------------------
    spark.sql("""
        SELECT article_key, band, key, dense_rank() OVER (PARTITION BY band, key ORDER BY article_key) AS rank
        FROM doc_bands""").createOrReplaceTempView("dm")  # fmt: skip
    spark.sql("""
        SELECT article_key, paragraph, band, key,
               dense_rank() OVER (PARTITION BY band, key ORDER BY article_key) AS rank
        FROM passage_bands""").createOrReplaceTempView("pm")  # fmt: skip
    hot = spark.sql(f"""
        SELECT 'document' AS kind, band, key, max(rank) AS members FROM dm GROUP BY band, key HAVING max(rank) > {cap}
        UNION ALL
        SELECT 'passage', band, key, max(rank) FROM pm GROUP BY band, key HAVING max(rank) > {cap}""")  # fmt: skip
    write("hot_buckets", hot)
    spark.sql(f"""
        SELECT n.band, n.key, o.article_key AS a, o.paragraph AS a_paragraph, n.article_key AS b, n.paragraph AS b_paragraph
        FROM pm n JOIN pm o ON o.band = n.band AND o.key = n.key AND o.article_key < n.article_key
        WHERE n.rank <= {cap}""").createOrReplaceTempView("phits")  # fmt: skip
    window = ""
    if config.window_days is not None:
        window = (
            "AND (x.published_utc IS NULL OR y.published_utc IS NULL OR "
            f"abs(unix_timestamp(x.published_utc) - unix_timestamp(y.published_utc)) <= {float(config.window_days) * 86400.0})"
        )
    candidates = spark.sql(f"""
        WITH exact AS (
            SELECT article_key, exact_hash, dense_rank() OVER (PARTITION BY exact_hash ORDER BY article_key) AS rank
            FROM signatures WHERE exact_hash <> 0),
        exact_pairs AS (
            SELECT o.article_key AS a, n.article_key AS b FROM exact n
            JOIN exact o ON o.exact_hash = n.exact_hash AND o.article_key < n.article_key
            WHERE n.rank <= {cap} OR o.rank = 1),
        doc_pairs AS (
            SELECT DISTINCT o.article_key AS a, n.article_key AS b FROM dm n
            JOIN dm o ON o.band = n.band AND o.key = n.key AND o.article_key < n.article_key
            WHERE n.rank <= {cap}),
        passage_pairs AS (SELECT a, b, count(DISTINCT a_paragraph, b_paragraph) AS n FROM phits GROUP BY a, b),
        pairs AS (
            SELECT a, b, bool_or(e) AS via_exact, bool_or(d) AS via_document, bool_or(p) AS via_passage,
                   max(n) AS passage_pairs
            FROM (
                SELECT a, b, true AS e, false AS d, false AS p, 0L AS n FROM exact_pairs
                UNION ALL SELECT a, b, false, true, false, 0L FROM doc_pairs
                UNION ALL SELECT a, b, false, false, true, n FROM passage_pairs
            ) GROUP BY a, b)
        SELECT p.*, (x.outlet <> '' AND x.outlet = y.outlet) AS same_outlet
        FROM pairs p JOIN articles x ON x.article_key = p.a JOIN articles y ON y.article_key = p.b
        WHERE true {window}""").cache()  # fmt: skip
    candidates.createOrReplaceTempView("cands")
    scored_input = spark.sql("""
        SELECT c.*, sa.signature AS sig_a, sb.signature AS sig_b, sa.shingles AS size_a, sb.shingles AS size_b
        FROM cands c JOIN signatures sa ON sa.article_key = c.a JOIN signatures sb ON sb.article_key = c.b""")  # fmt: skip
    num_perm = config.num_perm
    scored = scored_input.rdd.mapPartitions(lambda rows: _estimates(rows, num_perm))
    candidate_schema = StructType([
        StructField("a", LongType()), StructField("b", LongType()), StructField("via_exact", BooleanType()),
        StructField("via_document", BooleanType()), StructField("via_passage", BooleanType()),
        StructField("jaccard", DoubleType()), StructField("containment_a", DoubleType()),
        StructField("containment_b", DoubleType()), StructField("passage_pairs", IntegerType()),
        StructField("same_outlet", BooleanType()),
    ])  # fmt: skip
    from pyspark.sql import functions as F

    write(
        "candidates", spark.createDataFrame(scored, candidate_schema).withColumn("via_semantic", F.lit(False))
    )
    write(
        "candidate_passages",
        spark.sql(
            "SELECT DISTINCT h.a, h.b, h.a_paragraph, h.b_paragraph FROM phits h JOIN cands c USING (a, b)"
        ),
    )
    n_candidates = candidates.count()

    # -- semantic candidates: on the driver, with the local engine's pure functions ----------
    verify = options.verify
    pairs_found, vector_rows = (
        _semantic_pairs(spark, keyed, candidates, config, verify) if verify.embed else ([], [])
    )
    write("article_vectors", spark.createDataFrame(
        [(k, v) for k, v, _ in vector_rows], "article_key long, vector binary"))  # fmt: skip
    if pairs_found:
        spark.createDataFrame(pairs_found, "a long, b long").createOrReplaceTempView("sem")
        semantic_input = spark.sql("""
            SELECT s.a, s.b, false AS via_exact, false AS via_document, false AS via_passage, 0L AS passage_pairs,
                   (x.outlet <> '' AND x.outlet = y.outlet) AS same_outlet,
                   sa.signature AS sig_a, sb.signature AS sig_b, sa.shingles AS size_a, sb.shingles AS size_b
            FROM sem s JOIN articles x ON x.article_key = s.a JOIN articles y ON y.article_key = s.b
            JOIN signatures sa ON sa.article_key = s.a JOIN signatures sb ON sb.article_key = s.b""")  # fmt: skip
        scored_semantic = semantic_input.rdd.mapPartitions(lambda rows: _estimates(rows, num_perm))
        write_mode_append = spark.createDataFrame(scored_semantic, candidate_schema).withColumn(
            "via_semantic", F.lit(True)
        )
        write_mode_append.write.mode("append").parquet(str(out / "candidates"))
        spark.sql("SELECT a, b FROM cands UNION ALL SELECT a, b FROM sem").createOrReplaceTempView(
            "all_cands"
        )
    else:
        spark.sql("SELECT a, b FROM cands").createOrReplaceTempView("all_cands")
    n_candidates += len(pairs_found)
    holders = _template_holders(sentences)

    # -- verification ------------------------------------------------------------------------
    to_judge = spark.sql("""
        SELECT c.a, c.b, x.article AS article_a, y.article AS article_b
        FROM all_cands c JOIN arts x ON x.article_key = c.a JOIN arts y ON y.article_key = c.b""")  # fmt: skip
    judged = to_judge.rdd.mapPartitions(lambda rows: _verdicts(rows, verify, holders)).cache()
    pair_schema = "a long, b long, relation string, score double, containment_a double, containment_b double, shares string"
    write(
        "pairs",
        spark.createDataFrame(judged.filter(lambda x: x[0] == "pairs").map(lambda x: x[1]), pair_schema),
    )
    alignment_schema = (
        "a long, b long, a_sentence int, b_sentence int, kind string, score double, edits string"
    )
    write(
        "alignments",
        spark.createDataFrame(
            judged.filter(lambda x: x[0] == "alignments").map(lambda x: x[1]), alignment_schema
        ),
    )
    n_pairs = judged.filter(lambda x: x[0] == "pairs").count()
    return SparkSummary(read, stored, n_rejected, n_candidates, n_pairs, out)
