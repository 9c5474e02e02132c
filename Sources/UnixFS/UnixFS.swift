// The UnixFS module: dag-pb and UnixFS codecs, file layouts, the import pipeline and block sinks.
// See spec/unixfs.md.
