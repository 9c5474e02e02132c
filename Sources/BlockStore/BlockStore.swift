// BlockStore: pack files + SQLite (GRDB) index, pins, GC.
