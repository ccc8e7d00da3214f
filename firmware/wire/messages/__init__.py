"""Declarations of the wolfHSM message structs, one module per group.

Each constant is one C struct as compiled at wolfHSM v1.4.0 (``c_name`` names it in
``layout/struct-offsets-v1.4.0.txt``). Which struct serves which kind on a given wire -- and the
wire quirks of each exchange -- is recorded in :mod:`firmware.wire.versions`.
"""
