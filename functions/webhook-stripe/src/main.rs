#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    billing::lambda::run_http(webhook_stripe::handle).await
}
