"""``numpynet runs [show|rm|compare]``, and what ``numpynet train`` records (``--name``, ``--no-record``,
``--resume``).

``train`` records every run unless told not to. ``--resume ID`` continues a
recorded run in a new run that names it as its parent (the old run stays as
it was): from the run's saved model and optimizer state, with its dataset,
sample count, batch size, seed, augmentation and schedule, up to ``--epochs``
epochs in all (epochs past the end of a cosine schedule grow it, so they learn).
A run stopped in mid-epoch goes on from the next epoch, and ``--resume`` says so.
"""
import datetime
import sys

from . import runs
from .augment import Augment
from .errors import NumpynetError
from .recorder import Recorder
from .text import percent

# The train options a resumed run takes from the run it continues.
RESUMED = ("dataset", "limit", "validation_split", "batch_size", "seed")


# ----- numpynet train ----------------------------------------------------------------------------------
def add_train_options(parser):
    parser.add_argument("--name", help="a name for the recorded run")
    parser.add_argument("--no-record", dest="record", action="store_false",
                        help="do not record this run (by default every run is kept in $NUMPYNET_RUNS, else "
                             "~/.local/share/numpynet/runs)")
    parser.add_argument("--resume", metavar="RUN_ID",
                        help="continue a recorded run from its saved model and optimizer state, with its data and "
                             "settings, up to --epochs epochs in all (as a new run naming it as its parent)")


def resume(args):
    """The run ``--resume`` names, loaded, with ``args`` set from its settings; None without --resume."""
    if args.resume is None:
        return None
    run = runs.load(args.resume)
    settings = run.info.get("settings") or {}
    if run.model_path is None:
        raise NumpynetError(f"run {run.info['id']} saved no model (it stopped before its first epoch ended), "
                            f"so there is nothing to continue; start a new run")
    for key in RESUMED:
        setattr(args, key, settings.get(key, getattr(args, key)))
    args.model = str(run.model_path)
    cut = run.info.get("cut_short")
    if cut:
        print(f"numpynet: note: run {run.info['id']}: {runs.cut_short_note(cut['epoch'], cut['fraction'])}",
              file=sys.stderr)
    return run


def augment_of(run):
    """The augmentation the resumed ``run`` used (None for none); one the CLI cannot rebuild is an error."""
    config = run.info["settings"].get("augmentation")
    if config is None:
        return None
    if not isinstance(config, dict) or config.get("type") != "Augment":
        raise NumpynetError(f"run {run.info['id']} used the augmentation {config!r:.80}, which the command line "
                            f"cannot rebuild; continue it from the Python API")
    return Augment.from_config({k: v for k, v in config.items() if k != "type"})


def check_epochs(run, model, epochs):
    if epochs <= model.epochs_trained:
        raise NumpynetError(f"run {run.info['id']} has trained {model.epochs_trained} epochs already; with --resume, "
                            f"--epochs is the total to reach, so ask for more than {model.epochs_trained}")


def recorder(args, ds, parent, preset):
    """The Recorder of this ``train`` (None with --no-record); says where the run is kept."""
    if not args.record:
        return None
    rec = Recorder(name=args.name, source="cli", parent=parent and parent.info["id"])
    if parent is not None:
        preset = parent.info["settings"].get("preset")
    rec.settings.update(dataset=ds.name, preset=preset, test_samples=len(ds.x_test),
                        limit=args.limit, validation_split=args.validation_split,
                        command="numpynet " + " ".join(args.argv))
    print(f"run {rec.run_id} recorded in {rec.folder}")   # on stdout, with the results, even with --quiet
    return rec


# ----- numpynet runs -----------------------------------------------------------------------------------
def add_parser(sub):
    """Register ``runs`` and its subcommands on the CLI's subparsers."""
    p = sub.add_parser("runs", help="list, show, remove and compare recorded training runs")
    p.add_argument("--root", help="folder of the runs (default: $NUMPYNET_RUNS, else ~/.local/share/numpynet/runs)")
    p.set_defaults(func=cmd_list)
    own = p.add_subparsers(dest="runs_command")
    s = own.add_parser("show", help="a run's settings, events and summary")
    s.add_argument("run_id")
    s.set_defaults(func=cmd_show)
    r = own.add_parser("rm", help="delete a run")
    r.add_argument("run_id")
    r.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    r.set_defaults(func=cmd_rm)
    c = own.add_parser("compare", help="the settings that differ and the final metrics of two runs")
    c.add_argument("run_ids", nargs=2, metavar="RUN_ID")
    c.set_defaults(func=cmd_compare)


def cmd_list(args):
    infos = runs.list(args.root)
    if not infos:
        print(f"no runs in {runs.root(args.root)}")
        return
    headers = ("id", "name", "status", "model", "dataset", "optimizer", "epochs", "best val acc", "test acc",
               "time", "created")
    print(table(headers, [_row(info) for info in infos]))


def _row(info):
    settings, summary = info.get("settings") or {}, info.get("summary") or {}
    optimizer = settings.get("optimizer") or {}
    planned = settings.get("epochs_planned")
    return (info.get("id"), info.get("name") or "", info.get("status"), _model_text(settings),
            settings.get("dataset") or "", f"{optimizer.get('type', '')} {optimizer.get('lr', '')}".strip(),
            f"{info.get('epochs_done', 0)}/{planned}" if planned else str(info.get("epochs_done", "")),
            _percent((summary.get("best") or {}).get("val_accuracy")), _percent(summary.get("test_accuracy")),
            _duration(summary.get("seconds")), str(info.get("created") or "")[:16].replace("T", " "))


def _model_text(settings):
    if "parameters" not in settings:
        return settings.get("preset") or ""
    return f"{settings.get('preset') or 'custom'} ({settings['parameters']:,})"


def _percent(value):
    return percent(value) if isinstance(value, (int, float)) else ""


def _duration(seconds):
    return str(datetime.timedelta(seconds=round(seconds))) if isinstance(seconds, (int, float)) else ""


def cmd_show(args):
    run = runs.load(args.run_id, args.root)
    info = run.info
    print(f"run {info['id']}" + (f" ({info['name']})" if info.get("name") else "") + f": {info['status']}")
    for key in ("source", "parent", "tags", "created", "ended", "epochs_done"):
        if info.get(key) not in (None, []):
            print(f"  {key}: {_value(info[key])}")
    print(f"  folder: {run.folder}")
    _section("settings", flatten(info.get("settings") or {}))
    _section("summary", flatten(info.get("summary") or {}))
    print(f"events ({len(info.get('events') or [])}):")
    for event in info.get("events") or []:
        details = ", ".join(f"{k} {_value(v)}" for k, v in event.items() if k not in ("kind", "step", "time"))
        print(f"  step {event.get('step')}  {event.get('kind')}  {details}".rstrip())


def _section(title, flat):
    print(f"{title}:")
    for key, value in flat.items():
        print(f"  {key}: {_value(value)}")


def cmd_rm(args):
    folder = runs.find(args.run_id, args.root)
    if not args.yes:
        if not sys.stdin.isatty():
            raise NumpynetError(f"not deleting run {folder.name} without a terminal to confirm on; pass --yes")
        answer = input(f"Delete run {folder.name} and everything in {folder}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing deleted")
            return 1
    runs.delete(folder.name, args.root)
    print(f"deleted run {folder.name}")


def cmd_compare(args):
    first, second = (runs.load(run_id, args.root).info for run_id in args.run_ids)
    a, b = flatten(first.get("settings") or {}), flatten(second.get("settings") or {})
    differ = [(key, _value(a.get(key)), _value(b.get(key))) for key in sorted(a.keys() | b.keys())
              if a.get(key) != b.get(key)]
    headers = ("", first["id"], second["id"])
    print("settings that differ:" if differ else "the settings are the same")
    if differ:
        print(table(headers, differ))
    finals = [flatten({"final": (info.get("summary") or {}).get("final") or {},
                       "best": (info.get("summary") or {}).get("best") or {}}) for info in (first, second)]
    metrics = sorted(finals[0].keys() | finals[1].keys())
    rows = [("status", first.get("status"), second.get("status")),
            ("epochs", first.get("epochs_done"), second.get("epochs_done"))]
    rows += [(key, _value(finals[0].get(key)), _value(finals[1].get(key))) for key in metrics]
    rows += [(key, _value((first.get("summary") or {}).get(key)), _value((second.get("summary") or {}).get(key)))
             for key in ("test_accuracy", "test_loss", "seconds")]
    print("results:")
    print(table(headers, rows))


# ----- text --------------------------------------------------------------------------------------------
def flatten(doc, prefix=""):
    """Nested settings as {'optimizer.lr': 0.05, ...}; an architecture becomes one line per layer."""
    out = {}
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if key == "architecture" and isinstance(value, dict):
            out[f"{name}.input_shape"] = value.get("input_shape")
            out.update({f"{name}.layer{i + 1}": _layer_text(entry) for i, entry in enumerate(value.get("layers", []))})
        elif isinstance(value, dict):
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def _layer_text(entry):
    config = entry.get("config") or {}
    return f"{entry.get('type')}(" + ", ".join(f"{k}={_value(v)}" for k, v in config.items()) + ")"


def _value(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
    return str(value)


def table(headers, rows):
    """Rows of text under ``headers``, each column as wide as its widest cell."""
    rows = [tuple("" if cell is None else str(cell) for cell in row) for row in rows]
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]
    lines = ["  ".join(f"{cell:<{w}}" for cell, w in zip(row, widths)).rstrip() for row in [headers, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
