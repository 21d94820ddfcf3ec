#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    billing::lambda::run_http(http_post_payment_method_checkout::handle).await
}
