"""``python -m matcher.lab.synthetic``: write a synthetic directory as NDJSON."""

from matcher.lab.synthetic.generate import main

raise SystemExit(main())
