"""Errors of user-defined primitives (ad.primitive): type and message."""

from __future__ import annotations

import pytest

import adfun as ad


def test_primitive_of_a_non_callable():
    with pytest.raises(TypeError, match=r"adfun.primitive: expected a function, got int 3"):
        ad.primitive(3)
