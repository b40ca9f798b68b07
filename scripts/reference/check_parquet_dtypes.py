"""Compares our Parquet datasets with what the Python original would write for the same rows.

The original builds each dataset as a pandas DataFrame from Python values (int, float, str, bool,
list of float) and writes it with `DataFrame.to_parquet(index=False)` (pyarrow, snappy). For each
of our files this script rebuilds that DataFrame from the file's values, coerced to the Python
types the original's dataset columns hold, writes it the original's way, and compares:

- column names and order with the spec;
- the Arrow schema (types and nullability) pyarrow reads from both files;
- the pandas dtypes `pd.read_parquet` gives for both files;
- the Parquet leaf columns: physical type, logical type, repetition;
- compression and row-group count;
- the values (exactly, element by element).

Usage: check_parquet_dtypes.py <datasets dir>   → prints a JSON report, exit 1 on any mismatch.
Development-time only (pyarrow + pandas from scripts/reference/requirements.txt).
"""
import io
import json
import math
import pathlib
import sys

import pandas as pd
import pyarrow.parquet as pq

# (column, python type) in the original's order; "list" = list of float.
SPEC = {
    "events": [
        ("pitch", int), ("velocity", int), ("start_s", float), ("end_s", float), ("dur_s", float),
        ("instrument_index", int), ("instrument_name", str), ("program", int), ("is_drum", bool),
        ("beat_index", int), ("bar_index", int), ("beat_in_bar", float), ("start_beat_float", float),
        ("end_beat_float", float), ("song_id", str), ("stem", str),
    ],
    "beats": [("song_id", str), ("stem", str), ("beat_index", int), ("time_s", float), ("tempo_bpm", float)],
    "bars": [
        ("song_id", str), ("stem", str), ("bar_index", int), ("num_notes", int), ("mean_velocity", float),
        ("pitch_min", int), ("pitch_max", int), ("start_s", float), ("end_s", float),
    ],
    "bar_features": [
        ("rms", float), ("zcr", float), ("energy", float), ("spectral_centroid_mean", float),
        ("spectral_centroid_std", float), ("spectral_rolloff_mean", float), ("spectral_rolloff_std", float),
        ("spectral_bandwidth_mean", float), ("mfcc_mean", list), ("mfcc_std", list), ("chroma_mean", list),
        ("song_id", str), ("stem", str), ("bar_index", int), ("start_s", float), ("end_s", float),
        ("duration_s", float), ("tempo_bpm", float), ("chunk_path", str), ("audio_source", str),
    ],
    # Ours (additive): the bar grid itself.
    "bar_grid": [
        ("song_id", str), ("bar_index", int), ("start_s", float), ("end_s", float), ("duration_s", float),
        ("beats_per_bar", float), ("tempo_bpm", float), ("extrapolated", bool),
    ],
}


def coerce(value, kind):
    if kind is list:
        return [float(v) for v in value]
    return kind(value)


def original_way(name, ours_df):
    """The DataFrame the original would build (list of row dicts of Python values) and write."""
    spec = SPEC[name]
    records = [
        {col: coerce(row[col], kind) for col, kind in spec}
        for row in ours_df.to_dict(orient="records")
    ]
    reference = pd.DataFrame(records, columns=[c for c, _ in spec])
    buf = io.BytesIO()
    reference.to_parquet(buf, index=False, engine="pyarrow", compression="snappy")
    buf.seek(0)
    return buf


def leaf_columns(pfile):
    schema = pfile.schema
    out = []
    for i in range(len(schema)):
        c = schema.column(i)
        out.append({
            "path": c.path,
            "physical_type": c.physical_type,
            "logical_type": str(c.logical_type),
            "max_definition_level": c.max_definition_level,
            "max_repetition_level": c.max_repetition_level,
        })
    return out


def same_value(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if hasattr(a, "tolist"):
        a = a.tolist()
    if hasattr(b, "tolist"):
        b = b.tolist()
    return a == b


def check(path):
    name = path.stem
    problems = []
    ours_file = pq.ParquetFile(path)
    ours_df = pd.read_parquet(path)
    expected_names = [c for c, _ in SPEC[name]]
    if list(ours_df.columns) != expected_names:
        problems.append(f"columns {list(ours_df.columns)} != spec {expected_names}")
        return {"dataset": name, "ok": False, "problems": problems}

    ref_buf = original_way(name, ours_df)
    ref_file = pq.ParquetFile(ref_buf)
    ref_buf.seek(0)
    ref_df = pd.read_parquet(ref_buf)

    ours_arrow = ours_file.schema_arrow.remove_metadata()
    ref_arrow = ref_file.schema_arrow.remove_metadata()
    if not ours_arrow.equals(ref_arrow, check_metadata=False):
        problems.append(f"arrow schema differs:\nours:\n{ours_arrow}\noriginal:\n{ref_arrow}")
    for f in ours_arrow:
        if not f.nullable:
            problems.append(f"{f.name} is not nullable")

    ours_dtypes = {c: str(t) for c, t in ours_df.dtypes.items()}
    ref_dtypes = {c: str(t) for c, t in ref_df.dtypes.items()}
    if ours_dtypes != ref_dtypes:
        problems.append(f"pandas dtypes differ: ours {ours_dtypes} original {ref_dtypes}")

    if leaf_columns(ours_file) != leaf_columns(ref_file):
        problems.append(f"parquet leaf columns differ:\nours {leaf_columns(ours_file)}\noriginal {leaf_columns(ref_file)}")

    compressions = {ours_file.metadata.row_group(0).column(i).compression for i in range(ours_file.metadata.num_columns)}
    if compressions != {"SNAPPY"}:
        problems.append(f"compression {compressions} != SNAPPY")
    if ours_file.metadata.num_row_groups != 1:
        problems.append(f"{ours_file.metadata.num_row_groups} row groups (original: 1)")

    if len(ours_df) != len(ref_df):
        problems.append(f"row count {len(ours_df)} != {len(ref_df)}")
    else:
        for col in expected_names:
            for i, (a, b) in enumerate(zip(ours_df[col].tolist(), ref_df[col].tolist())):
                if not same_value(a, b):
                    problems.append(f"{col}[{i}]: {a!r} != {b!r}")
                    break

    return {
        "dataset": name,
        "ok": not problems,
        "rows": len(ours_df),
        "dtypes": ours_dtypes,
        "created_by": ours_file.metadata.created_by,
        "problems": problems,
    }


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    folder = pathlib.Path(argv[1])
    files = sorted(folder.glob("*.parquet"))
    reports = [check(p) for p in files if p.stem in SPEC]
    import pyarrow
    print(json.dumps({
        "pyarrow": pyarrow.__version__,
        "pandas": pd.__version__,
        "ok": bool(reports) and all(r["ok"] for r in reports),
        "datasets": reports,
    }, indent=2))
    return 0 if reports and all(r["ok"] for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
