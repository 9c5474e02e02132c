public enum Chunking {}
