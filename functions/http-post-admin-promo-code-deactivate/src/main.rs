#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    billing::lambda::run_http(http_post_admin_promo_code_deactivate::handle).await
}
