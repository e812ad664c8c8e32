//! AWS's diagnostic codes, spelled as `ValidateStateMachineDefinition` and the
//! `InvalidDefinition` error of `CreateStateMachine` spell them.
//!
//! The list is AWS's documented one (ValidateStateMachineDefinitionDiagnostic); codes that only
//! concern the API call (state machine names, labels) are here too so that callers share one
//! spelling.

// Errors.
/// JSON syntax problem in the definition text.
pub const INVALID_JSON_DESCRIPTION: &str = "INVALID_JSON_DESCRIPTION";
/// Null or empty definition text.
pub const MISSING_DESCRIPTION: &str = "MISSING_DESCRIPTION";
/// A field is missing, unknown, of the wrong type or out of range.
pub const SCHEMA_VALIDATION_FAILED: &str = "SCHEMA_VALIDATION_FAILED";
/// The value of a Task state's `Resource` is not a usable ARN.
pub const INVALID_RESOURCE: &str = "INVALID_RESOURCE";
/// The top-level workflow has no terminal state.
pub const MISSING_END_STATE: &str = "MISSING_END_STATE";
/// Two states share a name anywhere in the state machine.
pub const DUPLICATE_STATE_NAME: &str = "DUPLICATE_STATE_NAME";
/// A state name is empty or too long.
pub const INVALID_STATE_NAME: &str = "INVALID_STATE_NAME";
/// CreateStateMachine: no name given.
pub const STATE_MACHINE_NAME_EMPTY: &str = "STATE_MACHINE_NAME_EMPTY";
/// CreateStateMachine: the name breaks the naming rules.
pub const STATE_MACHINE_NAME_INVALID: &str = "STATE_MACHINE_NAME_INVALID";
/// CreateStateMachine: the name is longer than 80 characters.
pub const STATE_MACHINE_NAME_TOO_LONG: &str = "STATE_MACHINE_NAME_TOO_LONG";
/// CreateStateMachine: the name is taken.
pub const STATE_MACHINE_NAME_ALREADY_EXISTS: &str = "STATE_MACHINE_NAME_ALREADY_EXISTS";
/// A Map `Label` appears twice.
pub const DUPLICATE_LABEL_NAME: &str = "DUPLICATE_LABEL_NAME";
/// A Map `Label` breaks the naming rules.
pub const INVALID_LABEL_NAME: &str = "INVALID_LABEL_NAME";
/// A `Next`/`Default`/`StartAt` names no state in its scope, or a state is unreachable.
pub const MISSING_TRANSITION_TARGET: &str = "MISSING_TRANSITION_TARGET";
/// A `{% … %}` expression does not parse as JSONata.
pub const INVALID_JSONATA_EXPRESSION: &str = "INVALID_JSONATA_EXPRESSION";
/// A JSONata expression reads what Step Functions does not provide there (the context item,
/// `$$`, `$states.errorOutput` outside a catcher).
pub const UNSUPPORTED_JSONATA_EXPRESSION: &str = "UNSUPPORTED_JSONATA_EXPRESSION";
/// An `Assign` key is not a valid variable name.
pub const INVALID_VARIABLE_NAME: &str = "INVALID_VARIABLE_NAME";
/// An `Assign` key is the reserved `states`.
pub const RESERVED_VARIABLE_NAME: &str = "RESERVED_VARIABLE_NAME";
/// Parallel/Map nesting (or Choice rule nesting) is deeper than we accept.
pub const TOO_DEEPLY_NESTED: &str = "TOO_DEEPLY_NESTED";

// Warnings.
/// A field that looks like a path or intrinsic call lacks the `.$` suffix.
pub const NO_DOLLAR: &str = "NO_DOLLAR";
/// A value looks like a path but its field name does not end with `Path`.
pub const NO_PATH: &str = "NO_PATH";
/// A Pass state's `Result` holds a path, which is never evaluated.
pub const PASS_RESULT_IS_STATIC: &str = "PASS_RESULT_IS_STATIC";
