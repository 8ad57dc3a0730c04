//! The client side of a cluster: a DataFusion session whose physical planner is Ballista's
//! (each plan becomes a job on the scheduler), the connection check, and what its failures
//! mean to a user.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ballista_core::extension::{SessionConfigExt, SessionStateExt};
use ballista_core::serde::protobuf::GetJobStatusParams;
use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
use datafusion::error::DataFusionError;
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};
use kpi_formula::extensions::{ENGINE_VERSION, FUNCTION_NAMES};

use super::codec::{KpiLogicalCodec, KpiPhysicalCodec};
use super::{ClusterOptions, ClusterStatus};
use crate::error::EngineError;

/// A session whose plans run as jobs of one scheduler.
pub(crate) struct RemoteSession {
    pub(crate) ctx: SessionContext,
    endpoint: String,
}

impl RemoteSession {
    pub(crate) fn new(options: &ClusterOptions, config: &SessionConfig) -> Result<RemoteSession, EngineError> {
        let endpoint = format!("http://{}", options.address());
        let invalid = |e: DataFusionError| EngineError::InvalidOption { option: "cluster", message: e.to_string() };
        let mut config = config
            .clone()
            .upgrade_for_ballista()
            .with_ballista_logical_extension_codec(Arc::new(KpiLogicalCodec::default()))
            .with_ballista_physical_extension_codec(Arc::new(KpiPhysicalCodec::default()));
        let seconds = options.connect_timeout.as_secs().max(1).to_string();
        config.options_mut().set("ballista.client.grpc_connect_timeout_seconds", &seconds).map_err(invalid)?;
        // Ballista 55's adaptive planner re-plans a stage over and over when a join's input is
        // empty (a filter that matches nothing); the static distributed planner does not.
        config.options_mut().set("ballista.planner.adaptive.enabled", "false").map_err(invalid)?;
        let state = SessionStateBuilder::new().with_default_features().with_config(config).build();
        let state = state.upgrade_for_ballista(endpoint.clone()).map_err(invalid)?;
        Ok(RemoteSession { ctx: SessionContext::new_with_state(state), endpoint })
    }

    /// Connects within the timeout and asks the scheduler about a job that does not exist: a
    /// Ballista scheduler answers, anything else does not.
    pub(crate) async fn check(&self, options: &ClusterOptions) -> Result<ClusterStatus, EngineError> {
        let url = options.url();
        let started = Instant::now();
        let timeout = options.connect_timeout;
        let fail = |message: String| EngineError::Cluster { url: url.clone(), message };
        let mut client = match tokio::time::timeout(timeout, SchedulerGrpcClient::connect(self.endpoint.clone())).await {
            Ok(Ok(client)) => client,
            Ok(Err(e)) => return Err(fail(format!("cannot connect: {}; is kpi-scheduler running there?", root_cause(&e)))),
            Err(_) => return Err(fail(format!("no connection within {}; is kpi-scheduler running there?", seconds(timeout)))),
        };
        let probe = GetJobStatusParams { job_id: "kpi-engine-connection-check".into() };
        match tokio::time::timeout(timeout, client.get_job_status(probe)).await {
            Ok(Ok(_)) => {}
            // "Not found" is an answer: the scheduler is there.
            Ok(Err(status)) if status.code() != tonic::Code::Unimplemented && status.code() != tonic::Code::Unavailable => {}
            Ok(Err(status)) => return Err(fail(format!("it does not answer as a Ballista scheduler: {}", status.message()))),
            Err(_) => return Err(fail(format!("connected, but the scheduler did not answer within {}", seconds(timeout)))),
        }
        Ok(ClusterStatus { url, round_trip: started.elapsed() })
    }
}

/// What a failure of a calculation on the cluster at `url` means: the engine's functions not
/// understood there, another engine version, the scheduler unreachable, or the job's own failure.
pub(crate) fn cluster_error(url: &str, e: DataFusionError) -> EngineError {
    let text = e.to_string();
    let message = if text.contains("written by KPI Engine") {
        first_sentence(&text, "written by KPI Engine")
    } else if FUNCTION_NAMES.iter().any(|f| text.contains(&format!("function {f}")) || text.contains(&format!("named \"{f}\""))) {
        format!(
            "the cluster cannot read the engine's functions, so it is not running kpi-scheduler and kpi-executor of KPI Engine {ENGINE_VERSION} (a stock Ballista scheduler or executor?): {}",
            codec_complaint(&text).unwrap_or_else(|| short(&text))
        )
    } else if ["transport error", "tcp connect", "Connection refused", "dns error", "ConnectError"].iter().any(|m| text.contains(m)) {
        format!("cannot connect: {}; is kpi-scheduler running there?", short(&text))
    } else {
        format!("the job failed: {}", short(&text))
    };
    EngineError::Cluster { url: url.to_string(), message }
}

/// The sentence of `text` holding `marker`.
fn first_sentence(text: &str, marker: &str) -> String {
    let at = text.find(marker).unwrap_or(0);
    let start = text[..at].rfind(['\n', '"']).map_or(0, |i| i + 1);
    let end = text[at..].find(['\n', '"']).map_or(text.len(), |i| at + i);
    text[start..end].trim().trim_end_matches('\\').to_string()
}

/// "LogicalExtensionCodec is not provided for scalar function civil_period", out of the
/// nested debug output Ballista wraps it in.
fn codec_complaint(text: &str) -> Option<String> {
    let at = text.find(" is not provided for ")?;
    let start = text[..at].rfind(|c: char| !c.is_alphanumeric()).map_or(0, |i| i + 1);
    let function = at + text[at..].find("function ")? + "function ".len();
    let end = text[function..].find(|c: char| !(c.is_alphanumeric() || c == '_')).map_or(text.len(), |i| function + i);
    Some(text[start..end].to_string())
}

/// `text` without Ballista's wrapping of a gRPC status (its message only) and escapes, at most
/// 600 characters.
fn short(text: &str) -> String {
    let text = match text.find("message: \"") {
        Some(at) => {
            let rest = &text[at + "message: \"".len()..];
            &rest[..rest.find("\", metadata").unwrap_or(rest.len())]
        }
        None => text.strip_prefix("Execution error: ").unwrap_or(text),
    };
    let cleaned: String = text.replace("\\n", " ").replace("\\\"", "\"").replace("\\", "");
    let mut out: String = cleaned.chars().take(600).collect();
    if cleaned.chars().count() > 600 {
        out.push('…');
    }
    out
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut last = e;
    while let Some(next) = last.source() {
        last = next;
    }
    last.to_string()
}

fn seconds(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What Ballista's client reports when the scheduler refuses a plan: a gRPC status in debug
    /// form inside a DataFusion error.
    fn refused(message: &str) -> DataFusionError {
        DataFusionError::Execution(format!(
            "Status {{ code: InvalidArgument, message: \"Could not parse plan: DataFusion error: Plan(\\\"{message}\\\")\", metadata: MetadataMap {{ headers: {{}} }}, source: None }}"
        ))
    }

    #[test]
    fn failures_say_what_the_cluster_lacks() {
        let stock = cluster_error(
            "df://h:1",
            refused("NotImplemented(\\\"LogicalExtensionCodec is not provided for scalar function civil_period\\\")"),
        );
        let text = stock.to_string();
        assert_eq!(stock.code(), "KPI_CLUSTER");
        assert!(text.contains("not running kpi-scheduler and kpi-executor"), "{text}");
        assert!(text.ends_with("LogicalExtensionCodec is not provided for scalar function civil_period"), "{text}");

        let other = cluster_error(
            "df://h:1",
            refused(
                "the plan's function `civil_period` was written by KPI Engine 9.9.9 on DataFusion 55.2.0, and this process runs KPI Engine 0.1.0 on DataFusion 55.2.0: run the kpi-scheduler and kpi-executor of the engine's version",
            ),
        );
        let text = other.to_string();
        assert!(
            text.starts_with("Ballista cluster at df://h:1: the plan's function `civil_period` was written by KPI Engine 9.9.9"),
            "{text}"
        );
        assert!(text.ends_with("of the engine's version"), "{text}");

        let down = cluster_error(
            "df://h:1",
            DataFusionError::Execution(
                "tonic::transport::Error(Transport, ConnectError(\"tcp connect error\", Connection refused))".into(),
            ),
        );
        assert!(down.to_string().contains("cannot connect") && down.to_string().contains("is kpi-scheduler running there?"), "{down}");

        let failed =
            cluster_error("df://h:1", DataFusionError::Execution("Job 038JH failed: Task failed: object store unreachable".into()));
        assert!(failed.to_string().contains("the job failed: Job 038JH failed"), "{failed}");
    }
}
