"""Interoperability with the education sector's systems (issue 8).

- ``client``: the inbound pull from the sector database (CSDL ngành) into the school models, with a change
  report and the conflicts it flags.
- ``outbox``: the outbound exchange of issued học bạ to the data-integration platform, in the national
  exchange envelope, through an outbox written in the issuing transaction and a retrying worker.
- ``simulator``: a standalone sector platform (no Django) that serves the inbound interface and receives the
  outbound exchange, for the tests and the demo.

This package's ``__init__`` imports nothing, so that the simulator runs without Django.
"""
