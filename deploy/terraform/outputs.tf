output "bq_table" {
  value = "${var.project}:${google_bigquery_dataset.news.dataset_id}.${var.table}"
}

output "input_subscription" {
  value = google_pubsub_subscription.urls.id
}

output "input_topic" {
  value = google_pubsub_topic.urls.id
}

output "output_topic" {
  value = google_pubsub_topic.articles.id
}

output "worker_service_account" {
  value = google_service_account.worker.email
}

output "bucket" {
  value = google_storage_bucket.dataflow.name
}

output "image_repository" {
  value = "${var.region}-docker.pkg.dev/${var.project}/${google_artifact_registry_repository.images.repository_id}"
}
