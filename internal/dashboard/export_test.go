package dashboard

// FailuresSQL is failuresSQL, for the plan test.
var FailuresSQL = failuresSQL
