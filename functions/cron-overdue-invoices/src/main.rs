#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    billing::lambda::run_schedule(cron_overdue_invoices::handle).await
}
