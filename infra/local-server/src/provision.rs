//! Creates the template's resources in the local emulators: the table (with its GSIs, TTL and stream)
//! in DynamoDB Local, queues (with their redrive policies) and event buses in moto.
//!
//! Names get a prefix so the dev stack, the test run and each test can have their own copies.

use std::collections::BTreeMap;

use anyhow::Context;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, StreamSpecification, StreamViewType, TimeToLiveSpecification,
};
use aws_sdk_sqs::types::QueueAttributeName;

use crate::template::{KeyDef, TableDef, Template};

/// What was created, by logical id.
#[derive(Debug, Clone, Default)]
pub struct Provisioned {
    pub table_name: String,
    pub queue_urls: BTreeMap<String, String>,
    pub queue_arns: BTreeMap<String, String>,
    pub bus_names: BTreeMap<String, String>,
    pub topic_arns: BTreeMap<String, String>,
    /// Secrets Manager secrets by logical id (created empty: `{}`; the caller fills them).
    pub secret_arns: BTreeMap<String, String>,
    /// KMS keys by logical id (their key ids).
    pub kms_key_ids: BTreeMap<String, String>,
}

pub async fn create_table(client: &aws_sdk_dynamodb::Client, name: &str, def: &TableDef) -> anyhow::Result<()> {
    let attributes = def
        .attribute_definitions
        .iter()
        .map(|a| {
            AttributeDefinition::builder()
                .attribute_name(&a.attribute_name)
                .attribute_type(ScalarAttributeType::from(a.attribute_type.as_str()))
                .build()
        })
        .collect::<Result<Vec<_>, _>>()?;
    let indexes = def
        .global_secondary_indexes
        .iter()
        .map(|gsi| {
            GlobalSecondaryIndex::builder()
                .index_name(&gsi.index_name)
                .set_key_schema(Some(key_schema(&gsi.key_schema)?))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::from(gsi.projection.projection_type.as_str()))
                        .set_non_key_attributes(gsi.projection.non_key_attributes.clone())
                        .build(),
                )
                .build()
                .map_err(anyhow::Error::from)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let stream = def
        .stream_specification
        .as_ref()
        .map(|s| {
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::from(s.stream_view_type.as_str()))
                .build()
        })
        .transpose()?;
    client
        .create_table()
        .table_name(name)
        .set_stream_specification(stream)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(attributes))
        .set_key_schema(Some(key_schema(&def.key_schema)?))
        .set_global_secondary_indexes((!indexes.is_empty()).then_some(indexes))
        .send()
        .await
        .with_context(|| format!("creating table {name}"))?;
    if let Some(ttl) = def.time_to_live_specification.as_ref().filter(|t| t.enabled) {
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder().attribute_name(&ttl.attribute_name).enabled(true).build()?,
            )
            .send()
            .await
            .with_context(|| format!("enabling TTL on {name}"))?;
    }
    Ok(())
}

fn key_schema(keys: &[KeyDef]) -> anyhow::Result<Vec<KeySchemaElement>> {
    keys.iter()
        .map(|k| {
            KeySchemaElement::builder()
                .attribute_name(&k.attribute_name)
                .key_type(KeyType::from(k.key_type.as_str()))
                .build()
                .map_err(anyhow::Error::from)
        })
        .collect()
}

pub async fn queue_arn(sqs: &aws_sdk_sqs::Client, url: &str) -> anyhow::Result<String> {
    sqs.get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await?
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .with_context(|| format!("queue {url} has no ARN"))
}

/// Creates everything in the template under `prefix`. Dead-letter queues are created before
/// the queues that redrive into them.
pub async fn provision_all(
    aws: &aws_config::SdkConfig,
    template: &Template,
    prefix: &str,
) -> anyhow::Result<Provisioned> {
    let dynamo = aws_sdk_dynamodb::Client::new(aws);
    let sqs = aws_sdk_sqs::Client::new(aws);
    let events = aws_sdk_eventbridge::Client::new(aws);
    let mut out = Provisioned::default();

    let (table_id, table) = template.table()?;
    out.table_name = format!("{prefix}-{table_id}");
    create_table(&dynamo, &out.table_name, &table).await?;

    let mut queues = template.queues();
    queues.sort_by_key(|q| q.redrive.is_some());
    for queue in queues {
        let suffix = if queue.fifo { ".fifo" } else { "" };
        let name = format!("{prefix}-{}{suffix}", queue.logical_id);
        let mut request = sqs.create_queue().queue_name(&name);
        if queue.fifo {
            request = request.attributes(QueueAttributeName::FifoQueue, "true");
        }
        if let Some(timeout) = queue.visibility_timeout {
            request = request.attributes(QueueAttributeName::VisibilityTimeout, timeout.to_string());
        }
        if let Some((dlq, max_receive)) = &queue.redrive {
            let dlq_arn = out
                .queue_arns
                .get(dlq)
                .with_context(|| format!("{} redrives to unknown queue {dlq}", queue.logical_id))?;
            let policy = serde_json::json!({ "deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive });
            request = request.attributes(QueueAttributeName::RedrivePolicy, policy.to_string());
        }
        let url = request.send().await.with_context(|| format!("creating queue {name}"))?.queue_url.unwrap_or_default();
        let arn = queue_arn(&sqs, &url).await?;
        out.queue_urls.insert(queue.logical_id.clone(), url);
        out.queue_arns.insert(queue.logical_id, arn);
    }

    let sns = aws_sdk_sns::Client::new(aws);
    for topic in template.topics() {
        let name = format!("{prefix}-{topic}");
        let arn =
            sns.create_topic().name(&name).send().await.with_context(|| format!("creating topic {name}"))?.topic_arn;
        out.topic_arns.insert(topic, arn.unwrap_or_default());
    }

    let secrets = aws_sdk_secretsmanager::Client::new(aws);
    for secret in template.secrets() {
        let name = format!("{prefix}-{secret}");
        let arn = secrets
            .create_secret()
            .name(&name)
            .secret_string("{}")
            .send()
            .await
            .with_context(|| format!("creating secret {name}"))?
            .arn;
        out.secret_arns.insert(secret, arn.unwrap_or_default());
    }

    let kms = aws_sdk_kms::Client::new(aws);
    for key in template.kms_keys() {
        let created = kms
            .create_key()
            .description(format!("{prefix}-{key}"))
            .send()
            .await
            .with_context(|| format!("creating KMS key {key}"))?;
        let id = created.key_metadata.map(|m| m.key_id).with_context(|| format!("KMS key {key} has no id"))?;
        out.kms_key_ids.insert(key, id);
    }

    for bus in template.event_buses() {
        let name = format!("{prefix}-{bus}");
        events.create_event_bus().name(&name).send().await.with_context(|| format!("creating event bus {name}"))?;
        out.bus_names.insert(bus, name);
    }
    Ok(out)
}

/// Stores the Stripe secrets in the stack's `StripeSecrets` secret, as the template's
/// parameters would in AWS, and returns its ARN.
pub async fn fill_stripe_secrets(
    aws: &aws_config::SdkConfig,
    provisioned: &Provisioned,
    secret_key: &str,
    webhook_secret: &str,
) -> anyhow::Result<String> {
    let arn = provisioned.secret_arns.get("StripeSecrets").context("the template has no StripeSecrets secret")?;
    let value = serde_json::json!({ "secret_key": secret_key, "webhook_secret": webhook_secret }).to_string();
    aws_sdk_secretsmanager::Client::new(aws)
        .put_secret_value()
        .secret_id(arn)
        .secret_string(value)
        .send()
        .await
        .context("storing the Stripe secrets")?;
    Ok(arn.clone())
}
