from pyve.cli import main

raise SystemExit(main())
