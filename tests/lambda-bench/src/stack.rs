//! The resources and environment a function finds in its sandbox: the template's table,
//! queues and bus created in the emulators (as `make dev` creates them), the template's
//! global variables with their local values, the function's own `!Ref` variables resolved to
//! what was created, and the emulator endpoints and credentials `with-stack.sh` exported.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Context;
use aws_sdk_dynamodb::types::AttributeValue;
use billing::App;
use billing::accounts::store::AccountItem;
use billing::clock::SystemClock;
use billing::config::Config;
use billing::ids::OrganizationId;
use local_server::provision::{Provisioned, provision_all};
use local_server::template::Template;

pub struct Stack {
    pub template: Template,
    pub resources: Provisioned,
    /// Globals every function gets, with the values `make dev` uses.
    globals: BTreeMap<String, String>,
    /// For seeding accounts, outside any measured time.
    app: App,
    dynamo: aws_sdk_dynamodb::Client,
}

impl Stack {
    pub async fn provision() -> anyhow::Result<Self> {
        anyhow::ensure!(
            std::env::var_os("AWS_ENDPOINT_URL_DYNAMODB").is_some(),
            "the emulators are not running: use `make bench-lambda` (it starts them with infra/local/with-stack.sh)"
        );
        let template = Template::load_default()?;
        let aws = billing::app::load_aws_config().await;
        let prefix = format!("lb{}", std::process::id());
        let resources = provision_all(&aws, &template, &prefix).await.context("provisioning from template.yaml")?;
        let mut globals = BTreeMap::from([
            (Config::TABLE.to_owned(), resources.table_name.clone()),
            ("STRIPE_PUBLISHABLE_KEY".to_owned(), "pk_test_local".to_owned()),
            ("STRIPE_PAYMENTS_ENABLED".to_owned(), "true".to_owned()),
            ("WORKFLOW_ENGINE_PRINCIPALS".to_owned(), local_server::server::LOCAL_ENGINE_ROLE.to_owned()),
            ("RUST_LOG".to_owned(), "info".to_owned()),
            ("METRICS_NAMESPACE".to_owned(), "Billing".to_owned()),
        ]);
        for (var, queue) in [("USAGE_QUEUE_URL", "UsageQueue"), ("STRIPE_EVENTS_QUEUE_URL", "StripeEventsQueue")] {
            if let Some(url) = resources.queue_urls.get(queue) {
                globals.insert(var.to_owned(), url.clone());
            }
        }
        if let Some(bus) = resources.bus_names.values().next() {
            globals.insert("EVENT_BUS_NAME".to_owned(), bus.clone());
        }
        let mut env: BTreeMap<String, String> = globals.clone();
        env.extend(std::env::vars());
        let config = Config::from_lookup(|k| env.get(k).cloned())?;
        let app = App::new(config, &aws, Arc::new(SystemClock));
        let dynamo = aws_sdk_dynamodb::Client::new(&aws);
        Ok(Self { template, resources, globals, app, dynamo })
    }

    /// The environment of `binary`'s sandbox, without the Lambda runtime's own variables.
    pub fn function_env(&self, binary: &str) -> anyhow::Result<BTreeMap<String, String>> {
        // The emulator endpoints, region and credentials (Lambda gives credentials the same way).
        let mut env: BTreeMap<String, String> =
            std::env::vars().filter(|(k, _)| k.starts_with("AWS_") || k == "STRIPE_API_BASE" || k == "PATH").collect();
        env.extend(self.globals.clone());
        let Some(def) = self.template.functions()?.into_iter().find(|f| f.binary == binary) else {
            return Ok(env); // not a template function (the hello world): nothing of its own
        };
        let r = &self.resources;
        for (var, logical_id) in def.env_refs {
            let value = r
                .queue_urls
                .get(&logical_id)
                .or_else(|| r.bus_names.get(&logical_id))
                .or_else(|| r.topic_arns.get(&logical_id))
                .or_else(|| r.secret_arns.get(&logical_id))
                .or_else(|| r.kms_key_ids.get(&logical_id));
            // Refs to template parameters keep their defaults (the variable stays unset).
            if let Some(value) = value {
                env.insert(var, value.clone());
            }
        }
        Ok(env)
    }

    /// A paying organization (pro, credits, a payment method) for reservations: quota never
    /// runs out and every reserve takes the same path.
    pub async fn seed_paying_org(&self, org: &str) -> anyhow::Result<()> {
        let id = OrganizationId::parse(org).map_err(|e| anyhow::anyhow!("{org}: {e}"))?;
        let catalog = self.app.catalog();
        let fresh =
            AccountItem::new_free(&id, self.app.now(), catalog.free_workflows_per_month(), catalog.free_tier.clone());
        self.app.store.get_or_create_account(fresh).await?;
        self.dynamo
            .update_item()
            .table_name(self.app.store.table())
            .key("PK", AttributeValue::S(format!("ORG#{org}")))
            .key("SK", AttributeValue::S("ACCOUNT".into()))
            .update_expression("SET tier = :t, credit_balance_cents = :c, has_payment_method = :pm")
            .expression_attribute_values(":t", AttributeValue::S("pro".into()))
            .expression_attribute_values(":c", AttributeValue::N("100000000".into()))
            .expression_attribute_values(":pm", AttributeValue::Bool(true))
            .send()
            .await
            .context("seeding a paying organization")?;
        Ok(())
    }

    /// Messages in a queue (visible and in flight), as SQS counts them.
    pub async fn queue_depth(&self, url: &str) -> anyhow::Result<u64> {
        use aws_sdk_sqs::types::QueueAttributeName as A;
        let attrs = self
            .app
            .sqs()
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(A::ApproximateNumberOfMessages)
            .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await?
            .attributes
            .unwrap_or_default();
        let count = |a: A| attrs.get(&a).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        Ok(count(A::ApproximateNumberOfMessages) + count(A::ApproximateNumberOfMessagesNotVisible))
    }
}
