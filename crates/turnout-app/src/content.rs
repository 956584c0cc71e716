//! Articles: written in Markdown, rendered once, published by an editor.

use turnout_domain::Slug;
use turnout_domain::article::ArticleStatus;
use turnout_store::{Article, ArticleChanges, ArticleError, NewArticle};

use crate::{Change, Turnout, now};

impl Turnout {
    /// Writes an article, as a draft unless it says otherwise.
    pub async fn create_article(&self, article: &NewArticle) -> Result<Article, ArticleError> {
        let created = self.store.create_article(article, now()).await?;
        self.announce_article(&created);
        Ok(created)
    }

    /// Changes an article; absent fields stay as they are.
    pub async fn update_article(&self, slug: &Slug, changes: &ArticleChanges) -> Result<Article, ArticleError> {
        let updated = self.store.update_article(slug, changes, now()).await?;
        self.announce_article(&updated);
        Ok(updated)
    }

    /// Publishes an article; the first publication sets its published date.
    pub async fn publish_article(&self, slug: &Slug) -> Result<Article, ArticleError> {
        self.set_article_status(slug, ArticleStatus::Published).await
    }

    /// Takes an article back to draft: readers no longer see it.
    pub async fn unpublish_article(&self, slug: &Slug) -> Result<Article, ArticleError> {
        self.set_article_status(slug, ArticleStatus::Draft).await
    }

    async fn set_article_status(&self, slug: &Slug, status: ArticleStatus) -> Result<Article, ArticleError> {
        let changes = ArticleChanges {
            status: Some(status),
            ..ArticleChanges::default()
        };
        self.update_article(slug, &changes).await
    }

    fn announce_article(&self, article: &Article) {
        self.announce(Change::Article {
            slug: article.slug.clone(),
        });
    }
}
