"""``python -m matcher.synthetic``: write a synthetic directory as NDJSON."""

from matcher.synthetic.generate import main

raise SystemExit(main())
