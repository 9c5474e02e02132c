public enum Multiformats {}
