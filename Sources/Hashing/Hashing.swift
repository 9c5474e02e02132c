public enum Hashing {}
