// Adresse des actualités : /actualites/<nom-du-fichier>/, quel que soit le dossier.
// bulletin n'exécute pas ce fichier ; bulletin.yaml donne le même motif
// (content.permalinks : actualites/** → /actualites/:slug/).
module.exports = {
  eleventyComputed: {
    permalink: (data) => `/actualites/${data.page.fileSlug}/`,
  },
};
