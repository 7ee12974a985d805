"""``numpynet export`` and ``numpynet import``: a saved model to an ONNX file, and back.

Registered by ``core.cli`` (``register(sub)``); failures are NumpynetErrors that ``cli.main``
prints as one line. Export never replaces a file unasked: ``--force`` says to.
"""
from pathlib import Path

from .errors import ModelFileError
from .saving import check_save_path
from .serialization import load_model


def cmd_export(args):
    from .interop import export_onnx

    out = Path(args.out)
    if out.exists() and not args.force:
        raise ModelFileError(f"{out}: already exists; pass --force to replace it")
    model = load_model(args.model_dir)
    export_onnx(model, out)
    print(f"wrote {out} ({out.stat().st_size:,} bytes, {len(model.layers)} layers, "
          f"input (N, {', '.join(map(str, model.input_shape))}))")


def cmd_import(args):
    from .interop import import_onnx

    check_save_path(args.model_dir)   # before reading the file, as train checks --out before training
    model = import_onnx(args.onnx_file)
    model.compile("sgd", "crossentropy")   # an ONNX file has no loss: evaluate and train need one
    print(model.summary())
    print(f"saved {model.save(args.model_dir)}")


def register(sub):
    """Add the export and import sub-commands to ``numpynet``'s sub-parsers."""
    e = sub.add_parser("export", help="write a saved model as an ONNX file (needs numpynet-studio[onnx])")
    e.add_argument("model_dir", help="saved-model folder")
    e.add_argument("out", help="the .onnx file to write")
    e.add_argument("--force", action="store_true", help="replace OUT if it exists")
    e.set_defaults(func=cmd_export)
    i = sub.add_parser("import", help="read an ONNX file into a saved-model folder (needs numpynet-studio[onnx])")
    i.add_argument("onnx_file", help="an ONNX file holding a chain of supported operators")
    i.add_argument("model_dir", help="folder to save the model to (absent, empty, or a saved model)")
    i.set_defaults(func=cmd_import)
