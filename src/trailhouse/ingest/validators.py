"""msgspec decoders that mirror the typed Arrow columns, to check raw JSON values against them.

The JSON reader (arrow-rs) fails a whole unit on a type surprise and silently ignores unknown
nested keys. These decoders find, per value, what it would reject (lenient: types only) and what it
would drop (strict: unknown nested keys too), so such values go to `_rescued_data` verbatim.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import msgspec
import pyarrow as pa


def _python_type(arrow_type: pa.DataType, *, strict: bool, name: str) -> Any:
    if pa.types.is_struct(arrow_type):
        fields = [
            (f.name, _python_type(f.type, strict=strict, name=f"{name}_{f.name}"), None) for f in arrow_type
        ]
        # decoded values form trees, never cycles: no need for the garbage collector to track them
        struct = msgspec.defstruct(name, fields, forbid_unknown_fields=strict, gc=False)
        return struct | None
    if pa.types.is_list(arrow_type):
        item = _python_type(arrow_type.value_type, strict=strict, name=f"{name}_item")
        return list[item] | None  # type: ignore[valid-type]
    if pa.types.is_boolean(arrow_type):
        return bool | None
    return str | None  # strings, and eventTime which is read as text first


@cache
def decoder(field: pa.Field, *, strict: bool) -> msgspec.json.Decoder[Any]:
    """A decoder accepting exactly the JSON values that fit the typed column `field`."""
    return msgspec.json.Decoder(_python_type(field.type, strict=strict, name=f"V_{field.name}"))


@cache
def list_decoder(field: pa.Field) -> msgspec.json.Decoder[Any]:
    """A strict decoder for a JSON array of `field` values (one call checks a whole column)."""
    item = _python_type(field.type, strict=True, name=f"L_{field.name}")
    return msgspec.json.Decoder(list[item])  # type: ignore[valid-type]


def fits(field: pa.Field, raw: bytes | msgspec.Raw, *, strict: bool) -> bool:
    try:
        decoder(field, strict=strict).decode(raw)
    except msgspec.ValidationError:
        return False
    return True
