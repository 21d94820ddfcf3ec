//! Reads `template.yaml`, the single description of what is deployed, so the local stack
//! creates exactly the tables, queues, buses and routes that SAM would.
//!
//! CloudFormation short-form tags (`!Ref`, `!GetAtt`, `!Sub`) arrive as YAML tagged values;
//! only the few shapes the local stack needs are interpreted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_yaml::Value;

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("template.yaml is not valid YAML: {0}")]
    Yaml(#[from] serde_yaml::Error),
    #[error("template.yaml: {0}")]
    Shape(String),
}

#[derive(Debug, Clone, Deserialize)]
struct RawTemplate {
    #[serde(rename = "Resources")]
    resources: BTreeMap<String, RawResource>,
    #[serde(rename = "Globals", default)]
    globals: Value,
}

#[derive(Debug, Clone, Deserialize)]
struct RawResource {
    #[serde(rename = "Type")]
    kind: String,
    #[serde(rename = "Properties", default)]
    properties: Value,
    #[serde(rename = "Metadata", default)]
    metadata: Value,
}

/// Who API Gateway lets through on a route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteAuth {
    /// A named JWT authorizer (the API's default unless the route overrides it).
    Jwt(String),
    /// SigV4-signed AWS callers (internal routes for the workflow engine).
    Iam,
    /// Open: only the Stripe webhook, which verifies its own signature.
    None,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub method: String,
    pub path: String,
    pub auth: RouteAuth,
}

#[derive(Debug, Clone)]
pub struct FunctionDef {
    pub logical_id: String,
    /// `Metadata.BuildProperties.Binary`: the cargo package and binary name.
    pub binary: String,
    pub routes: Vec<Route>,
    /// Logical ids of queues this function consumes.
    pub queues: Vec<String>,
    /// Event patterns (as JSON) of the EventBridge rules that target this function.
    pub event_patterns: Vec<serde_json::Value>,
    /// The function's own environment variables that are `!Ref`s to other resources
    /// (variable name → logical id).
    pub env_refs: BTreeMap<String, String>,
    /// DynamoDB stream event sources (the table's stream into this function).
    pub streams: Vec<StreamSource>,
    /// `Metadata.Access`: who may call its routes (public, stripe, service, member, billing, admin).
    pub access: Option<String>,
    /// The SAM policy templates it is given (e.g. `DynamoDBReadPolicy`).
    pub policies: Vec<String>,
    /// Names of its own environment variables (the globals come on top).
    pub environment: Vec<String>,
    /// Its EventBridge Scheduler schedules (`ScheduleV2` events).
    pub schedules: Vec<ScheduleDef>,
    /// `CodeUri`: where `sam build` runs cargo for it.
    pub code_uri: Option<String>,
}

/// A `Type: ScheduleV2` event: when it fires and what it sends.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleDef {
    pub expression: String,
    /// `Input`, parsed as JSON (`Null` when absent or not JSON).
    pub input: serde_json::Value,
}

/// A `Type: DynamoDB` event: which table's stream, which records pass, where failures go.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamSource {
    /// Logical id of the table (`Stream: !GetAtt <Table>.StreamArn`).
    pub table: String,
    /// `FilterCriteria` patterns (as JSON); a record is delivered if any matches.
    pub filters: Vec<serde_json::Value>,
    pub batch_size: Option<u32>,
    /// `FunctionResponseTypes` contains `ReportBatchItemFailures`.
    pub reports_batch_item_failures: bool,
    /// Logical id of the `DestinationConfig.OnFailure` queue.
    pub on_failure: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TableDef {
    pub attribute_definitions: Vec<AttributeDef>,
    pub key_schema: Vec<KeyDef>,
    #[serde(default)]
    pub global_secondary_indexes: Vec<IndexDef>,
    pub time_to_live_specification: Option<TtlDef>,
    pub stream_specification: Option<StreamSpecDef>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamSpecDef {
    pub stream_view_type: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeDef {
    pub attribute_name: String,
    pub attribute_type: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyDef {
    pub attribute_name: String,
    pub key_type: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IndexDef {
    pub index_name: String,
    pub key_schema: Vec<KeyDef>,
    pub projection: ProjectionDef,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProjectionDef {
    pub projection_type: String,
    #[serde(default)]
    pub non_key_attributes: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TtlDef {
    pub attribute_name: String,
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueDef {
    pub logical_id: String,
    pub fifo: bool,
    pub visibility_timeout: Option<u32>,
    /// Dead-letter queue logical id and receive count before a message moves there.
    pub redrive: Option<(String, u32)>,
}

#[derive(Debug, Clone)]
pub struct Template {
    resources: BTreeMap<String, RawResource>,
    globals: Value,
}

impl Template {
    /// The repository's `template.yaml` (found from this crate's location at build time, or
    /// `BILLING_TEMPLATE` at run time).
    pub fn load_default() -> Result<Self, TemplateError> {
        Self::load(&default_path())
    }

    pub fn load(path: &Path) -> Result<Self, TemplateError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| TemplateError::Read { path: path.to_owned(), source })?;
        Self::parse(&text)
    }

    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        let raw: RawTemplate = serde_yaml::from_str(text)?;
        Ok(Self { resources: raw.resources, globals: raw.globals })
    }

    fn of_type<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = (&'a String, &'a RawResource)> + 'a {
        self.resources.iter().filter(move |(_, r)| r.kind == kind)
    }

    /// The HTTP API's default authorizer name, if any.
    pub fn default_authorizer(&self) -> Option<String> {
        self.of_type("AWS::Serverless::HttpApi")
            .find_map(|(_, r)| r.properties.get("Auth")?.get("DefaultAuthorizer")?.as_str().map(str::to_owned))
    }

    pub fn functions(&self) -> Result<Vec<FunctionDef>, TemplateError> {
        let default_auth = self.default_authorizer();
        self.of_type("AWS::Serverless::Function")
            .map(|(id, r)| {
                let binary = r
                    .metadata
                    .get("BuildProperties")
                    .and_then(|b| b.get("Binary"))
                    .and_then(Value::as_str)
                    .ok_or_else(|| TemplateError::Shape(format!("{id} has no Metadata.BuildProperties.Binary")))?
                    .to_owned();
                let mut routes = Vec::new();
                let mut queues = Vec::new();
                let mut event_patterns = Vec::new();
                let mut streams = Vec::new();
                let mut schedules = Vec::new();
                if let Some(events) = r.properties.get("Events").and_then(Value::as_mapping) {
                    for event in events.values() {
                        let props = event.get("Properties").cloned().unwrap_or(Value::Null);
                        match event.get("Type").and_then(Value::as_str) {
                            Some("HttpApi") => routes.push(route(id, &props, default_auth.as_deref())?),
                            Some("SQS") => {
                                queues.push(props.get("Queue").and_then(get_att_resource).ok_or_else(|| {
                                    TemplateError::Shape(format!("{id}: SQS event needs Queue: !GetAtt <Queue>.Arn"))
                                })?)
                            }
                            Some("EventBridgeRule") => event_patterns.push(
                                props
                                    .get("Pattern")
                                    .map(serde_json::to_value)
                                    .transpose()
                                    .map_err(|e| TemplateError::Shape(format!("{id}: rule pattern: {e}")))?
                                    .ok_or_else(|| {
                                        TemplateError::Shape(format!("{id}: EventBridgeRule needs a Pattern"))
                                    })?,
                            ),
                            Some("DynamoDB") => streams.push(stream_source(id, &props)?),
                            Some("ScheduleV2") => schedules.push(ScheduleDef {
                                expression: props
                                    .get("ScheduleExpression")
                                    .and_then(Value::as_str)
                                    .unwrap_or_default()
                                    .to_owned(),
                                input: props
                                    .get("Input")
                                    .and_then(Value::as_str)
                                    .and_then(|i| serde_json::from_str(i).ok())
                                    .unwrap_or(serde_json::Value::Null),
                            }),
                            _ => {}
                        }
                    }
                }
                let env_refs = r
                    .properties
                    .get("Environment")
                    .and_then(|e| e.get("Variables"))
                    .and_then(Value::as_mapping)
                    .map(|vars| {
                        vars.iter()
                            .filter_map(|(name, value)| match value {
                                Value::Tagged(t) if t.tag == "Ref" => {
                                    Some((name.as_str()?.to_owned(), t.value.as_str()?.to_owned()))
                                }
                                _ => None,
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let access = r.metadata.get("Access").and_then(Value::as_str).map(str::to_owned);
                let policies = r
                    .properties
                    .get("Policies")
                    .and_then(Value::as_sequence)
                    .map(|list| {
                        list.iter()
                            .filter_map(|p| match p {
                                Value::String(name) => Some(name.clone()),
                                Value::Mapping(m) => m.keys().next().and_then(Value::as_str).map(str::to_owned),
                                _ => None,
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let environment = variable_names(r.properties.get("Environment"));
                let code_uri = r.properties.get("CodeUri").and_then(Value::as_str).map(str::to_owned);
                Ok(FunctionDef {
                    logical_id: id.clone(),
                    binary,
                    routes,
                    queues,
                    event_patterns,
                    env_refs,
                    streams,
                    access,
                    policies,
                    environment,
                    schedules,
                    code_uri,
                })
            })
            .collect()
    }

    pub fn routes(&self) -> Result<Vec<(Route, String)>, TemplateError> {
        Ok(self
            .functions()?
            .into_iter()
            .flat_map(|f| f.routes.into_iter().map(move |r| (r, f.binary.clone())))
            .collect())
    }

    /// The one DynamoDB table.
    pub fn table(&self) -> Result<(String, TableDef), TemplateError> {
        let mut tables = self.of_type("AWS::DynamoDB::Table");
        let (id, r) = tables.next().ok_or_else(|| TemplateError::Shape("no AWS::DynamoDB::Table".into()))?;
        if tables.next().is_some() {
            return Err(TemplateError::Shape("more than one table; the design has exactly one".into()));
        }
        Ok((id.clone(), serde_yaml::from_value(r.properties.clone())?))
    }

    pub fn queues(&self) -> Vec<QueueDef> {
        self.of_type("AWS::SQS::Queue")
            .map(|(id, r)| {
                let p = &r.properties;
                let redrive = p.get("RedrivePolicy").and_then(|rp| {
                    let target = rp.get("deadLetterTargetArn").and_then(get_att_resource)?;
                    let count = rp.get("maxReceiveCount").and_then(Value::as_u64).unwrap_or(5);
                    Some((target, u32::try_from(count).unwrap_or(u32::MAX)))
                });
                QueueDef {
                    logical_id: id.clone(),
                    fifo: p.get("FifoQueue").and_then(Value::as_bool).unwrap_or(false),
                    visibility_timeout: p
                        .get("VisibilityTimeout")
                        .and_then(Value::as_u64)
                        .and_then(|v| u32::try_from(v).ok()),
                    redrive,
                }
            })
            .collect()
    }

    pub fn topics(&self) -> Vec<String> {
        self.of_type("AWS::SNS::Topic").map(|(id, _)| id.clone()).collect()
    }

    /// Environment variables every function gets (`Globals.Function.Environment`).
    pub fn global_environment(&self) -> Vec<String> {
        variable_names(self.globals.get("Function").and_then(|f| f.get("Environment")))
    }

    pub fn kms_keys(&self) -> Vec<String> {
        self.of_type("AWS::KMS::Key").map(|(id, _)| id.clone()).collect()
    }

    pub fn secrets(&self) -> Vec<String> {
        self.of_type("AWS::SecretsManager::Secret").map(|(id, _)| id.clone()).collect()
    }

    pub fn event_buses(&self) -> Vec<String> {
        self.of_type("AWS::Events::EventBus").map(|(id, _)| id.clone()).collect()
    }
}

pub fn default_path() -> PathBuf {
    std::env::var_os("BILLING_TEMPLATE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml"))
}

fn route(function: &str, props: &Value, default_auth: Option<&str>) -> Result<Route, TemplateError> {
    let field = |name: &str| {
        props
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| TemplateError::Shape(format!("{function}: HttpApi event needs {name}")))
    };
    let auth = match props.get("Auth").and_then(|a| a.get("Authorizer")).and_then(Value::as_str) {
        Some("NONE") => RouteAuth::None,
        Some("AWS_IAM") => RouteAuth::Iam,
        Some(name) => RouteAuth::Jwt(name.to_owned()),
        None => match default_auth {
            Some(name) => RouteAuth::Jwt(name.to_owned()),
            None => RouteAuth::None,
        },
    };
    Ok(Route { method: field("Method")?.to_uppercase(), path: field("Path")?, auth })
}

fn stream_source(function: &str, props: &Value) -> Result<StreamSource, TemplateError> {
    let shape = |what: &str| TemplateError::Shape(format!("{function}: DynamoDB event {what}"));
    let table = props
        .get("Stream")
        .and_then(get_att_resource)
        .ok_or_else(|| shape("needs Stream: !GetAtt <Table>.StreamArn"))?;
    let filters = props
        .get("FilterCriteria")
        .and_then(|f| f.get("Filters"))
        .and_then(Value::as_sequence)
        .map(|filters| {
            filters
                .iter()
                .map(|f| {
                    let pattern = f
                        .get("Pattern")
                        .and_then(Value::as_str)
                        .ok_or_else(|| shape("filter needs a Pattern string"))?;
                    serde_json::from_str(pattern).map_err(|e| shape(&format!("filter pattern is not JSON: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?
        .unwrap_or_default();
    let reports_batch_item_failures = props
        .get("FunctionResponseTypes")
        .and_then(Value::as_sequence)
        .is_some_and(|types| types.iter().any(|t| t.as_str() == Some("ReportBatchItemFailures")));
    Ok(StreamSource {
        table,
        filters,
        batch_size: props.get("BatchSize").and_then(Value::as_u64).and_then(|b| u32::try_from(b).ok()),
        reports_batch_item_failures,
        on_failure: props
            .get("DestinationConfig")
            .and_then(|d| d.get("OnFailure"))
            .and_then(|o| o.get("Destination"))
            .and_then(get_att_resource),
    })
}

/// `!GetAtt Name.Arn` or `{"Fn::GetAtt": [Name, Arn]}` → `Name`.
fn get_att_resource(value: &Value) -> Option<String> {
    match value {
        Value::Tagged(tagged) if tagged.tag == "GetAtt" => {
            tagged.value.as_str().and_then(|s| s.split('.').next()).map(str::to_owned)
        }
        Value::Mapping(m) => m
            .get("Fn::GetAtt")
            .and_then(Value::as_sequence)
            .and_then(|seq| seq.first())
            .and_then(Value::as_str)
            .map(str::to_owned),
        _ => None,
    }
}

fn variable_names(environment: Option<&Value>) -> Vec<String> {
    environment
        .and_then(|e| e.get("Variables"))
        .and_then(Value::as_mapping)
        .map(|vars| vars.keys().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_template_parses_into_functions_routes_and_resources() {
        let template = Template::load_default().unwrap();
        let functions = template.functions().unwrap();
        let account = functions.iter().find(|f| f.binary == "http-get-account").unwrap();
        assert_eq!(
            account.routes,
            [Route {
                method: "GET".into(),
                path: "/api/billing/account/{organization_id}".into(),
                auth: RouteAuth::Jwt("JwtAuthorizer".into())
            }]
        );
        let (_, table) = template.table().unwrap();
        assert_eq!(table.key_schema.len(), 2);
        assert_eq!(table.time_to_live_specification.unwrap().attribute_name, "expires_at");
        let usage = template.queues().into_iter().find(|q| q.logical_id == "UsageQueue").unwrap();
        assert_eq!(usage.redrive, Some(("UsageDeadLetterQueue".into(), 5)));
    }

    #[test]
    fn route_overrides_are_read_from_the_event() {
        let yaml = r#"
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties: { Auth: { DefaultAuthorizer: Jwt } }
  Hook:
    Type: AWS::Serverless::Function
    Metadata: { BuildProperties: { Binary: webhook-x } }
    Properties:
      Events:
        A: { Type: HttpApi, Properties: { Path: /hook, Method: post, Auth: { Authorizer: NONE } } }
        B: { Type: HttpApi, Properties: { Path: /internal, Method: GET, Auth: { Authorizer: AWS_IAM } } }
        C: { Type: SQS, Properties: { Queue: !GetAtt Jobs.Arn } }
"#;
        let f = Template::parse(yaml).unwrap().functions().unwrap().remove(0);
        assert_eq!(f.routes[0].auth, RouteAuth::None);
        assert_eq!(f.routes[0].method, "POST");
        assert_eq!(f.routes[1].auth, RouteAuth::Iam);
        assert_eq!(f.queues, ["Jobs"]);
    }
}
