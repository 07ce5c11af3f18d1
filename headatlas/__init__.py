"""headatlas as a library: a catalog opened by URL, read as plain objects or, with pandas, as DataFrames.

    import headatlas

    atlas = headatlas.connect("sqlite:///headatlas.db")
    atlas.head_type("induction-head").qk
    atlas.verdicts(model="smollm2", head_type="induction-head").to_pandas()

Every method reads; names are taken as the CLI takes them (any case, or the
start of one name: `smollm2`), and an unknown one is a ValueError naming the
nearest. Nothing here imports torch or loads a model: verification is
`headatlas verify`.
"""

from headatlas.atlas import Atlas, Rows, ScoreRow, connect

__all__ = ["Atlas", "Rows", "ScoreRow", "connect"]
