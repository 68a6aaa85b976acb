from gilsafe.cli import main

raise SystemExit(main())
