//! Named fault-injection points, for the tests that show what a fault of the runtime does to a
//! running stage (against the real ONNX Runtime, not a mock of it). They exist only in builds
//! with the `failpoints` feature, which the project's tests turn on; a release build has none.
//!
//! Points: `annotate::model-run` (a model's inference fails, as when a device is lost).

/// Configures the points named in the `FAILPOINTS` environment variable
/// (`name=actions;...`, the `fail` crate's syntax: `annotate::model-run=3*off->return` lets three
/// inferences pass, then fails every later one). Without the feature, the variable is refused
/// when set, so that a test never passes by injecting nothing.
pub fn from_env() -> Result<(), String> {
    configure(
        std::env::var("FAILPOINTS").ok().as_deref(),
        cfg!(feature = "failpoints"),
    )
}

/// `from_env` for a given `FAILPOINTS` value and a build with (`compiled_in`) or without the
/// points.
fn configure(spec: Option<&str>, compiled_in: bool) -> Result<(), String> {
    let Some(spec) = spec else {
        return Ok(());
    };
    if !compiled_in {
        return Err(
            "FAILPOINTS is set, but this build has no fault-injection points (the failpoints feature is for tests)".into(),
        );
    }
    for entry in spec.split(';').map(str::trim).filter(|e| !e.is_empty()) {
        let (name, actions) = entry
            .split_once('=')
            .ok_or_else(|| format!("FAILPOINTS entry {entry:?} is not name=actions"))?;
        fail::cfg(name.trim(), actions.trim())
            .map_err(|e| format!("FAILPOINTS entry {entry:?}: {e}"))?;
        tracing::warn!(
            point = name.trim(),
            actions = actions.trim(),
            "fault injection on"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::configure;

    #[test]
    fn a_build_without_the_points_refuses_failpoints() {
        assert_eq!(configure(None, false), Ok(()));
        let refused = configure(Some("annotate::model-run=return"), false).unwrap_err();
        assert!(refused.contains("no fault-injection points"), "{refused}");
        let bad = configure(Some("annotate::model-run"), true).unwrap_err();
        assert!(bad.contains("not name=actions"), "{bad}");
    }
}
