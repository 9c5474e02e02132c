// The error shape (`CairnError`, `ErrorCode`, `CairnFailure`) lives in the module below every
// other one; importing `CairnSystem` keeps bringing it (spec/api.md §4).
@_exported public import CairnErrors
