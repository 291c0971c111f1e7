"""The Spark engine: the same stage functions as the local engine, mapped over partitions.

A run is a short driver of named steps (`run`):

    _built        input lines/rows --mapPartitions--> build_article (normalise, segment) [pure]
    _keyed        versions and keys: the local rule (first occurrence of each (id, content)
                  in input order; a changed text under a stored id is its next version),
                  numbered from the database's next key                            [Spark SQL]
    _fingerprinted  shingles, MinHash, band keys  --mapPartitions-->                 [pure]
    _candidates   `stages.candidate_queries` rendered for Spark SQL: new articles against
                  new and stored ones, over-popular buckets capped                  [Spark SQL]
    _semantic     lede vectors of the unpaired, nearest earlier vectors (driver)    [pure]
    _verified     estimates and verdicts (`stages.estimates`, `stages.judge_pairs`; the
                  model loaded once per executor process)  --mapPartitions-->        [pure]
    _clustered    connected components of the strong pairs (label propagation in
                  DataFrames), then `cluster.build_clusters` per touched component   [Spark]
    -> Parquet tables with the store's schema (`dedup.tables`), one folder per table

`ingest` runs it onto a database: new (every article new) or existing (an increment: what
Spark needs of the database is exported first, `Store.export_base`), and imports the
tables (`finish.import_results`), which traces paragraph provenance with the local code.
Input is JSON lines (`.jsonl`, gzip ok), Parquet, or the articles of a dedup database.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dedup.cluster import STRONG, Edge, Node, build_clusters, cluster_rows, origin_rank
from dedup.fingerprint import IndexConfig, fingerprint
from dedup.finish import BASE, import_results
from dedup.ingest import MAX_CHARS, FieldMap, build_article
from dedup.ingest.readers import RAW_LIMIT, RawRecord, parse_json_line
from dedup.minhash import EMPTY
from dedup.model import Article, ClusterSummary, Paragraph, Reject, Sentence, utc_naive
from dedup.score import SideText
from dedup.semantic import LEDE_TOKENS, lede_if_long_enough, lede_vectors, nearest
from dedup.stages import VerifyOptions, candidate_queries, estimates, judge_pairs
from dedup.tables import table
from dedup.templates import MIN_ARTICLES, Holders

if TYPE_CHECKING:
    from dedup.store import Store

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
    max_chars: int = MAX_CHARS
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
            else [RawRecord(name, line, data, json.dumps(data, default=str)[:RAW_LIMIT])]
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
    empty = np.full(num_perm, EMPTY, dtype=np.uint32).tobytes()  # no shingles

    def signatures(name: str) -> np.ndarray:
        blob = b"".join(r[name] or empty for r in rows)
        return np.frombuffer(blob, dtype=np.uint32).reshape(len(rows), num_perm)

    jac, ca, cb = estimates(
        signatures("sig_a"),
        signatures("sig_b"),
        np.array([r["size_a"] for r in rows], dtype=np.int64),
        np.array([r["size_b"] for r in rows], dtype=np.int64),
        np.array([bool(r["via_exact"]) for r in rows], dtype=bool),
    )
    for i, r in enumerate(rows):
        yield (
            r["a"], r["b"], bool(r["via_exact"]), bool(r["via_document"]), bool(r["via_passage"]),
            float(jac[i]), float(ca[i]), float(cb[i]), int(r["passage_pairs"] or 0), bool(r["same_outlet"]),
        )  # fmt: skip


_MODEL: list[Any] = []


def _verdicts(
    rows: Iterator[Any], options: VerifyOptions, holders: dict[int, Holders]
) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """Judge a partition of candidate pairs; the model is loaded once per executor process."""
    import pickle

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


def _stored_article(row: Any) -> tuple[int, bytes]:
    """A stored article (a row of the exported base, its paragraphs and sentences
    collected) as the pickled `Article` the verification of a pair reads."""
    import pickle
    from datetime import datetime

    article = Article(
        article_id=row["article_id"],
        body=row["body"],
        content_hash=row["content_hash"],
        paragraphs=tuple(Paragraph(*p) for p in sorted(tuple(p) for p in row["paragraphs"] or ())),
        sentences=tuple(Sentence(*s) for s in sorted(tuple(s) for s in row["sentences"] or ())),
        outlet=row["outlet"],
        published=datetime.fromisoformat(row["published"]) if row["published"] else None,
        wire=row["wire"],
        version=row["version"],
    )
    return int(row["article_key"]), pickle.dumps(article)


def _cluster_component(row: Any) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """The clusters of one connected component of strong pairs, as the local engine makes
    them (`build_clusters`, `cluster_rows`), and the articles whose clusters they replace."""
    nodes = {int(n["key"]): Node(int(n["key"]), n["published_utc"], n["wire"]) for n in row["nodes"]}
    edges = [Edge(int(e["a"]), int(e["b"]), e["relation"], float(e["score"])) for e in row["edges"]]
    rows, members = cluster_rows(build_clusters(nodes, edges), edges)
    for key in nodes:
        yield "cluster_keys", (key,)
    for r in rows:
        yield "clusters", r
    for m in members:
        yield "cluster_members", m


def _template_holders(sentences: Any) -> dict[int, Holders]:
    """The holders of every sentence held by `templates.MIN_ARTICLES` or more articles
    (stored and new), as the local engine's `Store.template_holders` finds them."""
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
    return {k: holders for k, v in grouped.items() if (holders := Holders.of(v)).flips}


def _epoch(moment: Any) -> float:
    """Epoch seconds of a stored (UTC, naive) time, NaN when undated, as DuckDB's epoch()."""
    return float("nan") if moment is None else moment.replace(tzinfo=UTC).timestamp()


# -- the driver: one named step after another -------------------------------------------------


@dataclass
class _Run:
    """What the steps of one run share: the session, options, output folder and the base."""

    spark: Any
    options: SparkOptions
    out: Path
    base: Path | None
    next_key: int

    def write(self, name: str, df: Any, mode: str = "overwrite") -> None:
        df.write.mode(mode).parquet(str(self.out / name))

    def frame(self, rows: Any, name: str, omit: tuple[str, ...] = ("run_id",)) -> Any:
        """A DataFrame of `rows` with the Spark schema of table `name` (`dedup.tables`)."""
        return self.spark.createDataFrame(rows, table(name).spark(omit))

    def stored(self, name: str) -> Any:
        """A table of the base (the database this run adds to), or None for a new one."""
        return self.spark.read.parquet(str(self.base / name)) if self.base else None

    def view(self, name: str, new: Any, *, base: str | None = None) -> Any:
        """Register `new`, with the base's rows of `base` (a table name) added when there is
        one, as the temp view `name`."""
        df = new
        old = self.stored(base) if base else None
        if old is not None:
            df = new.unionByName(old.select(*[old[c].cast(new.schema[c].dataType) for c in new.columns]))
        df.createOrReplaceTempView(name)
        return df


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


def _built(r: _Run, paths: list[str]) -> tuple[int, Any]:
    """Every input record read and built into an article or a reject: (records, items)."""
    fields, source, max_chars = r.options.fields, r.options.source, r.options.max_chars
    records = _input_rows(r.spark, paths, r.options.partitions)
    read = records.count()
    built = records.mapPartitions(
        lambda rows: _articles_of(((o, n, line, d) for o, n, line, d in rows), fields, source, max_chars)
    ).map(lambda x: (x[0][0], x[0][1], x[1], x[2], x[3], x[4]))
    schema = "file_no int, line_no long, kind string, payload binary, article_id string, content_hash string"
    return read, r.spark.createDataFrame(built, schema).cache()


def _keyed(r: _Run, items: Any) -> Any:
    """(key, pickled Article) of the articles to store, versions and keys as the local
    engine assigns them (`pipeline._assign_versions`): in input order, the first occurrence
    of an (id, content) not stored yet is stored, as the next version of its id; a repeat
    of stored or earlier content is unchanged. Keys count on from the database's next."""
    import pickle

    items.where("kind = 'a'").createOrReplaceTempView("built")
    known = r.stored("articles")
    if known is None:
        known = r.spark.createDataFrame([], "article_id string, version int, content_hash string")
    known.select("article_id", "version", "content_hash").createOrReplaceTempView("known")
    numbered = r.spark.sql(
        """
        WITH firsts AS (
            SELECT * FROM (
                SELECT *, row_number() OVER (PARTITION BY article_id, content_hash ORDER BY file_no, line_no) AS n
                FROM built) WHERE n = 1),
        fresh AS (SELECT f.* FROM firsts f LEFT ANTI JOIN known k USING (article_id, content_hash)),
        latest AS (SELECT article_id, max(version) AS v FROM known GROUP BY article_id)
        SELECT f.payload, f.file_no, f.line_no,
               coalesce(l.v, 0) + row_number() OVER (PARTITION BY f.article_id ORDER BY f.file_no, f.line_no) AS version
        FROM fresh f LEFT JOIN latest l USING (article_id)
        """
    )
    first = r.next_key

    def with_key(x: Any) -> tuple[int, bytes]:
        row, index = x
        article: Article = pickle.loads(row["payload"])
        if row["version"] > 1:
            import dataclasses

            article = dataclasses.replace(article, version=row["version"])
        return first + index, pickle.dumps(article)

    ordered = numbered.rdd.sortBy(lambda x: (x["file_no"], x["line_no"]), numPartitions=r.options.partitions)
    return ordered.zipWithIndex().map(with_key).cache()


def _articles(r: _Run, keyed: Any, items: Any) -> tuple[Any, Any, int]:
    """Write the new articles, paragraphs, sentences and rejects; register the `articles`
    view (new and stored). (new article rows, sentences new and stored, rejected records)."""
    import pickle

    def article_row(x: tuple[int, bytes]) -> tuple[Any, ...]:
        key, blob = x
        a: Article = pickle.loads(blob)
        return (key, a.article_id, a.version, a.content_hash, a.title, a.outlet, a.byline, a.url,
                a.published.isoformat() if a.published else None, utc_naive(a.published), a.wire, a.dateline,
                a.is_summary, a.body, a.extra, a.source_file, a.source_line)  # fmt: skip

    meta = r.frame(keyed.map(article_row), "articles").cache()
    r.write("articles", meta)
    r.view("articles", meta.select(*r.stored("articles").columns) if r.base else meta, base="articles")
    r.write("paragraphs", r.frame(keyed.flatMap(
        lambda x: [(x[0], p.index, p.start, p.end, p.role) for p in pickle.loads(x[1]).paragraphs]), "paragraphs"))  # fmt: skip
    sentences = r.frame(keyed.flatMap(
        lambda x: [(x[0], s.index, s.paragraph, s.start, s.end, s.key, s.context)
                   for s in pickle.loads(x[1]).sentences]), "sentences").cache()  # fmt: skip
    r.write("sentences", sentences)
    rejects = items.where("kind = 'r'")
    rows = rejects.rdd.map(lambda x: pickle.loads(x["payload"])).map(
        lambda j: (j.file, j.line, j.field, j.reason, j.raw, j.action)
    )
    r.write("rejects", r.frame(rows, "rejects"))
    n_rejected = rejects.rdd.filter(lambda x: pickle.loads(x["payload"]).action == "rejected").count()
    return meta, r.view("all_sentences", sentences, base="sentences"), n_rejected


def _fingerprinted(r: _Run, keyed: Any) -> None:
    """Fingerprint the new articles; write their tables; register `signatures`,
    `doc_bands`, `passage_bands` (new and stored) and `new_keys` for the candidate SQL."""
    config = r.options.index_config
    fp = keyed.mapPartitions(lambda rows: _fingerprints(rows, config)).cache()
    for name in ("signatures", "doc_bands", "passages", "passage_bands"):
        df = r.frame(fp.filter(lambda x, n=name: x[0] == n).map(lambda x: x[1]), name)
        r.write(name, df)
        if name != "passages":
            r.view(name, df, base=name)
        if name == "signatures":
            df.select("article_key").createOrReplaceTempView("new_keys")


def _candidates(r: _Run) -> Any:
    """Candidate pairs of the new articles (`stages.candidate_queries`, as the local engine
    runs them), scored from their signatures; hot buckets and colliding paragraph pairs."""
    config = r.options.index_config
    queries = candidate_queries("spark", config.max_bucket, config.window_days)
    for name, query in queries.relations():
        r.spark.sql(query).createOrReplaceTempView(name)
    r.write("hot_buckets", r.spark.sql(queries.hot))
    candidates = r.spark.sql(queries.pairs).cache()
    candidates.createOrReplaceTempView("cands")
    r.write("candidates", _scored(r, "cands", semantic=False))
    r.write("candidate_passages", r.spark.sql(
        "SELECT h.a, h.b, h.a_paragraph, h.b_paragraph FROM passage_links h JOIN cands c USING (a, b)"))  # fmt: skip
    return candidates


def _scored(r: _Run, pairs_view: str, *, semantic: bool) -> Any:
    """The `candidates` rows of the pairs in `pairs_view`, estimates from their signatures."""
    from pyspark.sql import functions as F

    joined = r.spark.sql(f"""
        SELECT c.*, sa.signature AS sig_a, sb.signature AS sig_b, sa.shingles AS size_a, sb.shingles AS size_b
        FROM {pairs_view} c JOIN signatures sa ON sa.article_key = c.a JOIN signatures sb ON sb.article_key = c.b""")  # fmt: skip
    num_perm = r.options.index_config.num_perm
    scored = joined.rdd.mapPartitions(lambda rows: _estimates(rows, num_perm))
    return r.frame(scored, "candidates", omit=("run_id", "via_semantic")).withColumn(
        "via_semantic", F.lit(semantic)
    )


def _semantic(r: _Run, keyed: Any, candidates: Any) -> int:
    """The local engine's semantic candidates (`dedup.semantic`): lede vectors of the new
    articles no lexical candidate pairs with an earlier one, embedded on the driver, each
    paired with its nearest earlier vectors, stored or new. Registers `all_cands`."""
    import pickle

    config, verify = r.options.index_config, r.options.verify
    found: list[tuple[int, list[str], float]] = []
    if verify.embed and config.semantic_neighbors > 0:
        paired = {int(x["b"]) for x in candidates.select("b").distinct().collect()}
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
            return [(key, [side.sentences[i] for i in chosen], _epoch(utc_naive(article.published)))]

        found = sorted(keyed.flatMap(ledes).collect())
    pairs: list[tuple[int, int, float]] = []
    rows: list[tuple[int, bytes]] = []
    if found:
        from dedup.embed import MiniLMEmbedder

        model = MiniLMEmbedder(verify.device, max_tokens=LEDE_TOKENS)
        matrix = lede_vectors([sentences for _, sentences, _ in found], model.encode)
        keys = np.array([k for k, _, _ in found], dtype=np.int64)
        times = np.array([t for _, _, t in found], dtype=np.float64)
        blocks = [(keys, matrix, times)]
        stored = r.stored("article_vectors")
        if stored is not None:
            old = sorted(
                (int(x["article_key"]), bytes(x["vector"]), _epoch(x["published_utc"]))
                for x in stored.join(
                    r.stored("articles").select("article_key", "published_utc"), "article_key"
                ).collect()
            )
            if old:
                vectors = np.frombuffer(b"".join(v for _, v, _ in old), dtype=np.float32).reshape(
                    len(old), -1
                )
                old_keys = np.array([k for k, _, _ in old], dtype=np.int64)
                blocks.insert(0, (old_keys, vectors, np.array([w for _, _, w in old], dtype=np.float64)))
        window = None if config.window_days is None else config.window_days * 86400.0
        pairs = nearest(
            matrix, keys, blocks, k=config.semantic_neighbors, floor=config.semantic_floor,
            query_times=times, window_seconds=window,
        )  # fmt: skip
        rows = [(int(k), matrix[i].tobytes()) for i, k in enumerate(keys)]
    r.write("article_vectors", r.frame(rows, "article_vectors"))
    if not pairs:
        r.spark.sql("SELECT a, b FROM cands").createOrReplaceTempView("all_cands")
        return 0
    r.spark.createDataFrame([(a, b) for a, b, _ in pairs], "a long, b long").createOrReplaceTempView("sem")
    r.spark.sql("""
        SELECT s.a, s.b, false AS via_exact, false AS via_document, false AS via_passage, 0L AS passage_pairs,
               (x.outlet <> '' AND x.outlet = y.outlet) AS same_outlet
        FROM sem s JOIN articles x ON x.article_key = s.a JOIN articles y ON y.article_key = s.b""").createOrReplaceTempView("sem_cands")  # fmt: skip
    r.write("candidates", _scored(r, "sem_cands", semantic=True), mode="append")
    r.spark.sql("SELECT a, b FROM cands UNION ALL SELECT a, b FROM sem").createOrReplaceTempView("all_cands")
    return len(pairs)


def _verified(r: _Run, keyed: Any, sentences: Any) -> Any:
    """Verdicts and alignments of every candidate (`stages.judge_pairs` per partition), the
    stored side of a pair rebuilt from the base. Returns the new `pairs` rows."""
    from pyspark.sql import functions as F

    arts = r.spark.createDataFrame(keyed, "article_key long, article binary")
    if r.base is not None:
        wanted = r.spark.sql(f"SELECT DISTINCT a AS article_key FROM all_cands WHERE a < {r.next_key}")
        paragraphs = (
            r.stored("paragraphs")
            .groupBy("article_key")
            .agg(F.collect_list(F.struct("paragraph", "start_char", "end_char", "role")).alias("paragraphs"))
        )
        sentence_rows = r.stored("sentences").groupBy("article_key").agg(
            F.collect_list(F.struct(
                "sentence", "paragraph", "start_char", "end_char", "sentence_key", "context_key")).alias("sentences")
        )  # fmt: skip
        old = (
            r.stored("articles").join(wanted, "article_key")
            .join(paragraphs, "article_key", "left").join(sentence_rows, "article_key", "left")
        )  # fmt: skip
        arts = arts.unionByName(r.spark.createDataFrame(old.rdd.map(_stored_article), arts.schema))
    arts.createOrReplaceTempView("arts")
    holders = _template_holders(sentences)
    verify = r.options.verify
    to_judge = r.spark.sql("""
        SELECT c.a, c.b, x.article AS article_a, y.article AS article_b
        FROM all_cands c JOIN arts x ON x.article_key = c.a JOIN arts y ON y.article_key = c.b""")  # fmt: skip
    judged = to_judge.rdd.mapPartitions(lambda rows: _verdicts(rows, verify, holders)).cache()
    pairs = r.frame(judged.filter(lambda x: x[0] == "pairs").map(lambda x: x[1]), "pairs").cache()
    r.write("pairs", pairs)
    r.write(
        "alignments", r.frame(judged.filter(lambda x: x[0] == "alignments").map(lambda x: x[1]), "alignments")
    )
    return pairs


def _components(r: _Run, edges: Any) -> Any:
    """(article_key, component) for every article with a strong pair: connected components
    by label propagation (each article takes the smallest label among itself and its
    neighbours until nothing changes; as many rounds as the widest story is hops across)."""
    from pyspark.sql import functions as F

    both = edges.select(F.col("a").alias("src"), F.col("b").alias("dst")).unionByName(
        edges.select(F.col("b").alias("src"), F.col("a").alias("dst"))
    )
    labels = (
        both.select(F.col("src").alias("article_key"))
        .distinct()
        .withColumn("component", F.col("article_key"))
    )
    labels = labels.localCheckpoint()
    while True:
        spread = labels.join(both, labels.article_key == both.src).select(
            F.col("dst").alias("article_key"), F.col("component")
        )
        nxt = labels.unionByName(spread).groupBy("article_key").agg(F.min("component").alias("component"))
        nxt = nxt.localCheckpoint()
        changed = nxt.join(labels.withColumnRenamed("component", "before"), "article_key").where(
            "component <> before"
        )
        if changed.limit(1).count() == 0:
            return nxt
        labels = nxt


def _clustered(r: _Run, pairs: Any) -> None:
    """The clusters of every component of strong pairs (stored and new) that holds a new
    pair: what the local engine's `cluster_and_trace` rebuilds, built by the same code."""
    from pyspark.sql import functions as F

    strong = r.view("all_pairs", pairs.select("a", "b", "relation", "score"), base="pairs").where(
        F.col("relation").isin(*STRONG)
    )
    components = _components(r, strong)
    seeds = pairs.select(F.col("a").alias("article_key")).unionByName(
        pairs.select(F.col("b").alias("article_key"))
    )
    touched = components.join(seeds.distinct(), "article_key").select("component").distinct()
    members = components.join(touched, "component")
    nodes = members.join(
        r.spark.table("articles").select("article_key", "published_utc", "wire"), "article_key"
    )
    edges = strong.join(members.withColumnRenamed("article_key", "a"), "a")
    grouped = (
        nodes.groupBy("component")
        .agg(
            F.collect_list(F.struct(F.col("article_key").alias("key"), "published_utc", "wire")).alias(
                "nodes"
            )
        )
        .join(
            edges.groupBy("component").agg(
                F.collect_list(F.struct("a", "b", "relation", "score")).alias("edges")
            ),
            "component",
        )
    )
    rows = grouped.rdd.flatMap(_cluster_component).cache()
    for name, omit in (("cluster_keys", ()), ("clusters", ("run_id",)), ("cluster_members", ())):
        part = rows.filter(lambda x, n=name: x[0] == n).map(lambda x: x[1])
        schema = "article_key long" if name == "cluster_keys" else table(name).spark(omit)
        r.write(name, r.spark.createDataFrame(part, schema))


def run(
    spark: Any,
    paths: list[str],
    out: Path,
    options: SparkOptions = SparkOptions(),
    *,
    base: Path | None = None,
    next_key: int = 1,
) -> SparkSummary:
    """Run every stage on Spark and write the new rows of the store's tables as Parquet
    under `out`: into a new database, or (with `base`, the folder `Store.export_base` wrote,
    and its `next_key`) as an increment of the database it was exported from."""
    options.index_config.validate()
    out.mkdir(parents=True, exist_ok=True)
    r = _Run(spark, options, out, base, next_key)
    read, items = _built(r, paths)
    keyed = _keyed(r, items)
    stored = keyed.count()
    _, sentences, rejected = _articles(r, keyed, items)
    _fingerprinted(r, keyed)
    candidates = _candidates(r)
    n_candidates = candidates.count() + _semantic(r, keyed, candidates)
    pairs = _verified(r, keyed, sentences)
    _clustered(r, pairs)
    (out / BASE).write_text(json.dumps({"next_key": next_key}))
    return SparkSummary(read, stored, rejected, n_candidates, pairs.count(), out)


def ingest(
    store: Store, spark: Any, paths: list[str], options: SparkOptions = SparkOptions()
) -> tuple[SparkSummary, ClusterSummary]:
    """`dedup ingest --engine spark`: every stage on Spark onto `store` (new, or an
    increment of what it holds), the results imported in one transaction; a temporary
    folder holds the exchange."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="dedup-spark-") as tmp:
        work = Path(tmp)
        base, next_key = None, 1
        if store.counts()["articles"]:
            store.pin_index_config(options.index_config.pinned())  # refuse other parameters before the work
            next_key, base = store.export_base(work / "base"), work / "base"
        summary = run(
            spark,
            [str(Path(p).resolve()) for p in paths],
            work / "out",
            options,
            base=base,
            next_key=next_key,
        )
        _, clusters = import_results(store, work / "out", options.index_config)
    return summary, clusters
