"""Cổng xác thực học bạ số: the public verification portal and its JSON API (issue 6).

The pure part (``engine``, ``sandbox``, ``samples``) imports no Django: ``engine.analyse`` reads a PDF or XML
and validates its signatures, ``sandbox.run`` does that in a separate process with a wall-clock timeout and a
memory limit. The Django part (``service``, ``views``, ``api``) adds the registry, privacy, rate limits and the
log of every lookup. See docs/huong-dan/xac-thuc.md for users and the module docstrings for the design.
"""
