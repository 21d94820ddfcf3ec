#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    billing::lambda::run_dynamodb_stream({{crate}}::handle).await
}
