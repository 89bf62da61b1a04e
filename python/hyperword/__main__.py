from hyperword.cli import main

raise SystemExit(main())
