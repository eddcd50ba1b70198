from newsgen.cli import main

raise SystemExit(main())
