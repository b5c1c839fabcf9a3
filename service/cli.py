"""The `civility` command: every process of the service starts here."""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import Any

import setproctitle

from service.config import Settings

log = logging.getLogger("civility")
DEMO_SITE = "demo"


def setup_logging() -> None:
    from service import logs

    logs.setup()


def prepare(settings: Settings) -> None:
    """Make the data directory and migrate the database: every command works on a fresh one."""
    from service.db import Database
    from service.migrate import upgrade

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.database_url)
    try:
        if upgrade(db):
            log.info("event=migrated database=%s", db.engine.url.render_as_string(hide_password=True))
    finally:
        db.dispose()


def with_redis(settings: Settings) -> tuple[Settings, object | None]:
    """Settings with a Redis URL: REDIS_URL, an embedded Redis already running, or a new one we own."""
    from service.embedded_redis import EmbeddedRedis, running_url

    if settings.redis_url:
        return settings, None
    url = running_url(settings.data_dir)
    if url:
        return settings.with_redis(url), None
    embedded = EmbeddedRedis(settings.data_dir)
    url = embedded.start()
    log.info("event=embedded_redis_started url=%s", url)
    return settings.with_redis(url), embedded


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    prepare(settings)
    return 0


def cmd_create_site(settings: Settings, args: argparse.Namespace) -> int:
    from service.db import Database
    from service.sites import create_site, site_by_name

    prepare(settings)
    db = Database(settings.database_url)
    with db.session() as session:
        if site_by_name(session, args.name):
            print(f"a site named {args.name!r} already exists", file=sys.stderr)
            return 1
        new = create_site(session, args.name, webhook_url=args.webhook_url)
    print(f"site {args.name!r} created. API key (shown once, only its hash is stored):")
    print(new.api_key)
    return 0


def cmd_create_moderator(settings: Settings, args: argparse.Namespace) -> int:
    from service.db import Database
    from service.moderators import create_moderator

    prepare(settings)
    db = Database(settings.database_url)
    try:
        with db.session() as session:
            create_moderator(session, args.username, args.password, args.site or [], is_admin=args.admin)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # the username is taken
        print(f"error: could not create {args.username!r}: {type(error).__name__}", file=sys.stderr)
        return 1
    scope = "all sites (admin)" if args.admin else ", ".join(args.site or []) or "no sites yet"
    print(f"moderator {args.username!r} created for {scope}")
    return 0


def cmd_export_labels(settings: Settings, args: argparse.Namespace) -> int:
    from service.db import Database
    from service.labels import export_labels

    prepare(settings)
    db = Database(settings.database_url)
    with db.session() as session, open(args.out, "w", newline="", encoding="utf-8") as handle:
        count = export_labels(session, handle)
    print(f"wrote {count} labels to {args.out}")
    return 0


def cmd_api(settings: Settings, args: argparse.Namespace) -> int:
    from service.wsgi import serve

    prepare(settings)
    settings, embedded = with_redis(settings)
    try:
        serve(settings, args.host, args.port, processes=args.processes)
    finally:
        if embedded is not None:
            embedded.stop()  # type: ignore[attr-defined]
    return 0


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    from workers.worker import run_worker

    prepare(settings)
    settings, embedded = with_redis(settings)
    try:
        run_worker(settings, burst=args.burst)
    finally:
        if embedded is not None:
            embedded.stop()  # type: ignore[attr-defined]
    return 0


def non_negative(value: str) -> float:
    number = float(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"{value} is below 0: a negative weight would reward the gap")
    return number


def sentence_gate(value: str) -> float | None:
    """`--sentence-gate`: calibrated log-odds, or `none` for a recipe that encodes every picked sentence."""
    if value.strip().lower() == "none":
        return None
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is neither a number (log-odds) nor none") from None
    if not math.isfinite(number):
        raise argparse.ArgumentTypeError(f"{value!r} is no finite log-odds: use none for no gate")
    return number


def passage_words(value: str) -> int:
    """`--passage-words`: a whole number of words, at least one (a passage is one or more whole sentences)."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of words") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} words: a passage needs at least 1")
    return number


def train_max_length(value: str) -> int:
    """`--train-max-length`: tokens training reads of each row, at most as many as the scorer reads."""
    from models.scorer import SCORED_TOKENS

    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of tokens") from None
    # At least 16: a row's [CLS] and [SEP] take two, and a tweet runs to about 30 tokens.
    if not 16 <= number <= SCORED_TOKENS:
        raise argparse.ArgumentTypeError(f"{value} tokens: expected 16 to {SCORED_TOKENS} (what the scorer reads)")
    return number


def row_weight(text: str) -> tuple[str, float]:
    """`--row-weight SET=WEIGHT` as a pair, the set named as its switch is (hate-word-rows or hate_word_rows)."""
    from models.data import MIN_ROW_WEIGHT, OPTIONAL_ROWS

    name, sep, value = text.partition("=")
    name = name.strip().replace("-", "_")
    try:
        weight = float(value) if sep else float("nan")
    except ValueError:
        weight = float("nan")
    if name not in OPTIONAL_ROWS:
        raise argparse.ArgumentTypeError(f"no optional row set named {name!r} in {text!r}; they are {OPTIONAL_ROWS}")
    if not MIN_ROW_WEIGHT <= weight <= 1.0:
        raise argparse.ArgumentTypeError(f"expected SET=WEIGHT with a weight from {MIN_ROW_WEIGHT} to 1, got {text!r}")
    return name, weight


class BadRecipe(ValueError):
    """`civility train` arguments that contradict each other."""


def row_weights(pairs: list[tuple[str, float]], config: Any) -> dict[str, float]:
    """The --row-weight pairs as TrainConfig.row_weights: each set once, only sets the recipe adds, and no weight of
    1, which is every row's weight anyway (so the recipe reads the same as the one without it)."""
    from models.train import optional_rows

    names = [name for name, _ in pairs]
    if repeated := sorted({name for name in names if names.count(name) > 1}):
        raise BadRecipe(f"--row-weight gives {', '.join(repeated)} more than once")
    if missing := sorted(set(names) - set(optional_rows(config))):
        switches = ", ".join("--" + name.replace("_", "-") for name in missing)
        raise BadRecipe(f"--row-weight weighs {', '.join(missing)}, which this recipe does not add (add {switches})")
    return {name: weight for name, weight in pairs if weight != 1.0}


def train_config(args: argparse.Namespace) -> Any:
    """`civility train`'s arguments as a TrainConfig."""
    from models.train import TrainConfig

    # Switches left unset keep TrainConfig's own defaults, the shipped recipe's, so they are written once.
    switches = {
        name: getattr(args, name)
        for name in (
            "promotion_pairs",
            "praise_pairs",
            "tweet_spam_targets",
            "linkless_tweets_as_ham",
            "counterfactual_pairing",
            "sentence_rows",
            "hate_word_rows",
            "insult_contrast_rows",
            "clean_passage_rows",
            "spliced_passage_rows",
        )
    }
    config = TrainConfig(
        version=args.version or Path(args.out).name,
        epochs=args.epochs,
        trainable_layers=args.trainable_layers,
        cap_scale=args.cap_scale,
        extra_labels=args.labels,
        balance_identity=args.balance_identity,
        balance_hate_word=args.balance_hate_word,
        **{name: value for name, value in switches.items() if value is not None},
    )
    config = replace(config, row_weights=row_weights(args.row_weight, config))
    if hasattr(args, "sentence_gate"):  # given, even as `none` (no gate): unset keeps TrainConfig's
        config = replace(config, sentence_gate=args.sentence_gate)
    if args.passage_words is not None:
        config = replace(config, passage_words=args.passage_words)
    if args.train_max_length is not None:
        config = replace(config, max_length=args.train_max_length)
    # The sentence to score beside the comment is the one the n-gram model picks: without it, none.
    return replace(config, lexical_labels=(), sentence_labels=(), sentence_gate=None) if args.no_lexical else config


def cmd_train(settings: Settings, args: argparse.Namespace) -> int:
    from models.train import train

    try:
        config = train_config(args)
    except BadRecipe as error:
        print(f"civility train: {error}", file=sys.stderr)
        return 2
    artifact = train(Path(args.data_dir), Path(args.out), config)
    print(f"wrote {args.out} (version {artifact['version']}, labels {', '.join(artifact['labels'])})")
    return 0


def cmd_evaluate(settings: Settings, args: argparse.Namespace) -> int:
    from models.evaluate import UnknownFold, evaluate, loso_config_for
    from models.paths import default_artifact_dir

    # The full --loso table is the artifact's own seed's, and the card's seeds table reads it so: a run at another
    # seed is kept apart, by fold, and without --loso-only the seed would change nothing at all.
    for flag, value in (("--loso-seed", args.loso_seed), ("--loso-hand-written-seed", args.loso_hand_written_seed)):
        if value is not None and (args.loso or not args.loso_only):
            print(
                f"civility evaluate: {flag} retrains the folds named by --loso-only, not with --loso", file=sys.stderr
            )
            return 2
    artifact = Path(args.artifact) if args.artifact else default_artifact_dir()
    loso_config = loso_config_for(artifact, epochs=args.loso_epochs, cap_scale=args.loso_cap_scale)
    if args.loso_seed is not None:
        loso_config = replace(loso_config, seed=args.loso_seed)
    if args.loso_hand_written_seed is not None:
        if args.loso_cap_scale >= 1:
            print(
                "civility evaluate: --loso-hand-written-seed redraws the hand-written rows a cheapened fold keeps;"
                " at --loso-cap-scale 1 every one is kept",
                file=sys.stderr,
            )
            return 2
        # Drawn at the training seed is the artifact's own draw: stored as such, not as a control.
        if args.loso_hand_written_seed != loso_config.seed:
            loso_config = replace(loso_config, hand_written_seed=args.loso_hand_written_seed)
    only = set(args.loso_only) if args.loso_only else None
    try:
        report = evaluate(artifact, Path(args.data_dir), loso=args.loso, loso_config=loso_config, loso_only=only)
    except UnknownFold as error:
        print(f"civility evaluate: {error}", file=sys.stderr)
        return 2
    print(json.dumps(report["fixed"]["identity"], indent=2))
    print(f"wrote {artifact / 'evaluation.json'} and {artifact / 'MODEL_CARD.md'}")
    return 0


def ensure_demo_site(settings: Settings) -> str | None:
    """Create the demo site on first start; returns its new key, or None if it already existed."""
    from service.db import Database
    from service.sites import create_site, site_by_name

    db = Database(settings.database_url)
    try:
        with db.session() as session:
            if site_by_name(session, DEMO_SITE):
                return None
            return create_site(session, DEMO_SITE).api_key
    finally:
        db.dispose()


class Supervisor:
    """Runs the api and N workers as child processes, restarts any that die, stops them in order."""

    def __init__(self, settings: Settings, args: argparse.Namespace):
        self.env = dict(os.environ, REDIS_URL=settings.redis_url or "", DATABASE_URL=settings.database_url)
        self.env["CIVILITY_DATA_DIR"] = str(settings.data_dir)
        # All in one machine: workers split the cores between them instead of each spinning a thread
        # per core against the others (2 workers x 1 thread decided 136/s here, 1 x 2 threads 84/s),
        # and run at a lower priority so the API answers readers first while a burst is scored.
        self.env.setdefault("CIVILITY_TORCH_THREADS", str(max(1, cpu_count() // max(1, args.workers))))
        self.worker_env = dict(self.env, CIVILITY_WORKER_NICE=self.env.get("CIVILITY_WORKER_NICE", "5"))
        base = [sys.executable, "-m", "service.cli"]
        self.commands = {"api": base + ["api", "--host", args.host, "--port", str(args.port)]}
        for n in range(args.workers):
            self.commands[f"worker-{n + 1}"] = base + ["worker"]
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.stopping = False

    def spawn(self, name: str) -> None:
        # Own session: the terminal's Ctrl-C reaches only us, and we stop children in order.
        env = self.worker_env if name.startswith("worker") else self.env
        self.children[name] = subprocess.Popen(self.commands[name], env=env, start_new_session=True)

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def run(self) -> None:
        for name in self.commands:
            self.spawn(name)
        while not self.stopping:
            time.sleep(0.5)
            for name, child in list(self.children.items()):
                if child.poll() is not None and not self.stopping:
                    log.warning("event=child_exited name=%s code=%s action=restart", name, child.returncode)
                    self.spawn(name)

    def stop(self, timeout: float = 60.0) -> None:
        """SIGTERM all: gunicorn drains requests, RQ workers finish the job in hand."""
        for child in self.children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in self.children.values():
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def cpu_count() -> int:
    """Cores this process may run on (a container's limit, not the host's)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def cmd_up(settings: Settings, args: argparse.Namespace) -> int:
    prepare(settings)
    api_key = ensure_demo_site(settings)
    settings, embedded = with_redis(settings)
    supervisor = Supervisor(settings, args)
    signal.signal(signal.SIGINT, supervisor.request_stop)
    signal.signal(signal.SIGTERM, supervisor.request_stop)
    base = f"http://{args.host}:{args.port}"
    if api_key:
        print(f"Demo site created. Its API key (shown once, only its hash is stored):\n  {api_key}", flush=True)
    print(f"Civility is starting at {base} with {args.workers} worker(s); Ctrl-C stops it.", flush=True)
    try:
        supervisor.run()
    finally:
        log.info("event=stopping")
        supervisor.stop()
        if embedded is not None:
            embedded.stop()  # type: ignore[attr-defined]
        log.info("event=stopped")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="civility", description="Self-hosted comment moderation.")
    sub = root.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="all-in-one: embedded Redis, SQLite, API and workers")
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--port", type=int, default=8000)
    up.add_argument(
        "--workers", type=int, default=min(4, cpu_count()), help="scoring workers (default: one per core, up to 4)"
    )
    up.set_defaults(func=cmd_up)

    api = sub.add_parser("api", help="serve the HTTP API with gunicorn")
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int, default=8000)
    api.add_argument("--processes", type=int, default=2)
    api.set_defaults(func=cmd_api)

    worker = sub.add_parser("worker", help="run one RQ worker that loads the model once")
    worker.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    worker.set_defaults(func=cmd_worker)

    sub.add_parser("migrate", help="migrate the database to the newest schema").set_defaults(func=cmd_migrate)

    site = sub.add_parser("create-site", help="create a site and print its API key once")
    site.add_argument("name")
    site.add_argument("--webhook-url")
    site.set_defaults(func=cmd_create_site)

    moderator = sub.add_parser("create-moderator", help="create a moderator account")
    moderator.add_argument("username")
    moderator.add_argument("--password", required=True)
    moderator.add_argument("--site", action="append", help="a site the moderator works on (repeatable)")
    moderator.add_argument("--admin", action="store_true", help="sees every site and its settings")
    moderator.set_defaults(func=cmd_create_moderator)

    export = sub.add_parser("export-labels", help="write moderators' decisions as a training CSV")
    export.add_argument("--out", required=True)
    export.set_defaults(func=cmd_export_labels)

    train = sub.add_parser("train", help="train the moderation model's heads from the shared data directory")
    train.add_argument("--data-dir", required=True)
    train.add_argument("--out", required=True, help="artifact directory, e.g. models/artifacts/v15")
    train.add_argument("--version", help="defaults to the output directory's name")
    train.add_argument("--cap-scale", type=float, default=1.0, help="scale per-source caps (small for a quick run)")
    train.add_argument("--epochs", type=int, default=2)
    train.add_argument("--labels", help="also train on a CSV written by `civility export-labels`")
    train.add_argument("--trainable-layers", type=int, default=6, help="top encoder layers to fine-tune (6: all)")
    train.add_argument(
        "--promotion-pairs",
        action=argparse.BooleanOptionalAction,
        help="self-promotion rows built from parts, each beside an honest twin (on in the shipped recipe,"
        " TrainConfig.promotion_pairs)",
    )
    train.add_argument(
        "--praise-pairs",
        action=argparse.BooleanOptionalAction,
        help="praise of the site (spam) beside the same opener with a remark on the story (on in the shipped recipe,"
        " TrainConfig.praise_pairs)",
    )
    train.add_argument(
        "--tweet-spam-targets",
        action=argparse.BooleanOptionalAction,
        help="mark the tweets nobody judged for spam as not spam (off in the shipped recipe; TrainConfig says why)",
    )
    train.add_argument(
        "--linkless-tweets-as-ham",
        action=argparse.BooleanOptionalAction,
        help="without --tweet-spam-targets, still mark the tweets that have no link as not spam (on in the shipped"
        " recipe; TrainConfig.linkless_tweets_as_ham)",
    )
    train.add_argument(
        "--sentence-rows",
        action=argparse.BooleanOptionalAction,
        help="also train on each comment's most suspicious sentence alone, as the scorer scores it (on in the shipped"
        " recipe; TrainConfig.sentence_rows)",
    )
    train.add_argument(
        "--clean-passage-rows",
        action=argparse.BooleanOptionalAction,
        help="also train on each passage of every clean long comment alone, as the scorer reads a long comment"
        " (off in the shipped recipe; TrainConfig says why)",
    )
    train.add_argument(
        "--spliced-passage-rows",
        action=argparse.BooleanOptionalAction,
        help="each clean passage of a long comment with a short toxic comment spliced in, labelled toxic (off in the"
        " shipped recipe; TrainConfig says why)",
    )
    train.add_argument(
        "--sentence-gate",
        type=sentence_gate,
        default=argparse.SUPPRESS,
        metavar="LOGODDS",
        help="encode a comment's most suspicious sentence only where the n-gram model alone gives it calibrated"
        " log-odds of at least this; none: always (TrainConfig.sentence_gate)",
    )
    train.add_argument(
        "--passage-words",
        type=passage_words,
        default=None,
        metavar="N",
        help="score a long comment as its worst passage of about N words; the thresholds are fitted to that"
        " (TrainConfig.passage_words)",
    )
    train.add_argument(
        "--train-max-length",
        type=train_max_length,
        default=None,
        metavar="TOKENS",
        help="tokens training reads of each row, at most the 256 the scorer reads (TrainConfig.max_length)",
    )
    train.add_argument(
        "--hate-word-rows",
        action=argparse.BooleanOptionalAction,
        help='hand-written rows saying "hate" of things (not toxic) and of the reader (toxic, no identity attack); off'
        " in the shipped recipe, TrainConfig.hate_word_rows says why",
    )
    train.add_argument(
        "--insult-contrast-rows",
        action=argparse.BooleanOptionalAction,
        help='hand-written ordinary insults ("idiot", "muppet") in the slur attacks\' sentences, labelled toxic but no'
        " identity attack; off in the shipped recipe, TrainConfig.insult_contrast_rows says why",
    )
    train.add_argument(
        "--row-weight",
        action="append",
        type=row_weight,
        default=[],
        metavar="SET=WEIGHT",
        help="the loss weight, from 0.000001 to 1, of an optional hand-written row set the recipe adds (e.g."
        " hate_word_rows=0.3; TrainConfig.row_weights); repeat for several",
    )
    train.add_argument(
        "--no-lexical",
        action="store_true",
        help="the encoder alone, without the n-gram spam model beside it (models/lexical.py): the recipe up to v10",
    )
    train.add_argument(
        "--balance-identity",
        action="store_true",
        help="give back clean comments naming an identity that the caps dropped: fewer false positives on them,"
        " a little lower ROC-AUC on toxic ones (README, Model, has the figures)",
    )
    train.add_argument(
        "--balance-hate-word",
        action="store_true",
        help='give back clean comments saying "hate" that the caps dropped (off in the shipped recipe;'
        " TrainConfig.balance_hate_word)",
    )
    train.add_argument(
        "--counterfactual-pairing",
        type=non_negative,
        metavar="WEIGHT",
        help="weight of the loss tying a clean comment that names an identity to the same comment naming none"
        " (TrainConfig.counterfactual_pairing; 0 turns it off, the recipe up to v18)",
    )
    train.set_defaults(func=cmd_train)

    evaluate = sub.add_parser("evaluate", help="measure a model artifact and rewrite its model card")
    evaluate.add_argument("--data-dir", required=True)
    evaluate.add_argument("--artifact", help="artifact directory (default: the shipped one)")
    evaluate.add_argument("--loso", action="store_true", help="also retrain leaving each source out (slow)")
    # The folds retrain with the artifact's own recipe, cheapened: 11 folds at full size would take hours.
    evaluate.add_argument("--loso-epochs", type=int, default=1)
    evaluate.add_argument("--loso-cap-scale", type=float, default=0.3)
    evaluate.add_argument(
        "--loso-only",
        action="append",
        metavar="FOLD",
        help="retrain only this fold (repeatable), e.g. 'youtube video Psy' or 'sms_spam_collection.csv (message"
        " style)'; kept apart from the --loso table, by recipe (--loso-epochs 2 --loso-cap-scale 1 is the full one)",
    )
    evaluate.add_argument(
        "--loso-seed",
        type=int,
        help="retrain the --loso-only folds at this training seed rather than the artifact's (it also draws the caps'"
        " sample, the hand-written rows kept and the held-out rows); the card sets the seeds' results side by side",
    )
    evaluate.add_argument(
        "--loso-hand-written-seed",
        type=int,
        help="draw the hand-written rows a cheapened fold keeps at this seed, adding none (TrainConfig."
        "hand_written_seed): a control for a recipe change that adds rows, which redraws them too; with --loso-only",
    )
    evaluate.set_defaults(func=cmd_evaluate)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    setup_logging()
    # Ops tell the processes apart in ps and top by role, not by "python -m service.cli".
    setproctitle.setproctitle(f"civility {args.command}")
    return int(args.func(Settings.from_env(), args))


if __name__ == "__main__":
    sys.exit(main())
