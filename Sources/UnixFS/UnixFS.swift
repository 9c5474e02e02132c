// The UnixFS module: dag-pb and UnixFS codecs, file layouts, directories, the import pipeline.
