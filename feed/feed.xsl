<?xml version="1.0" encoding="UTF-8"?>
<!--
  bulletin: shows an RSS 2.0 or Atom 1.0 feed opened in a browser as a plain
  page. No script, no external resource.
-->
<xsl:stylesheet version="1.0"
  xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
  xmlns:atom="http://www.w3.org/2005/Atom"
  exclude-result-prefixes="atom">
  <xsl:output method="html" encoding="UTF-8" indent="yes" doctype-system="about:legacy-compat"/>

  <xsl:variable name="title" select="/rss/channel/title | /atom:feed/atom:title"/>
  <xsl:variable name="description" select="/rss/channel/description | /atom:feed/atom:subtitle"/>
  <xsl:variable name="home" select="/rss/channel/link | /atom:feed/atom:link[@rel='alternate']/@href"/>
  <xsl:variable name="self" select="/rss/channel/atom:link[@rel='self']/@href | /atom:feed/atom:link[@rel='self']/@href"/>
  <xsl:variable name="lang" select="/rss/channel/language | /atom:feed/@xml:lang"/>

  <xsl:template match="/">
    <html lang="{$lang}">
      <head>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <meta name="robots" content="noindex"/>
        <title><xsl:value-of select="$title"/> · flux / feed</title>
        <style>
          :root { color-scheme: light dark; }
          body { font: 1.0625rem/1.6 system-ui, sans-serif; max-width: 42rem; margin: 0 auto; padding: 1rem; }
          .notice { border: 2px solid currentColor; border-radius: .5rem; padding: .75rem 1rem; }
          .notice p { margin: .25rem 0; }
          code { overflow-wrap: anywhere; }
          ol { padding-left: 1.25rem; }
          li { margin: .75rem 0; }
          a { color: LinkText; text-underline-offset: .15em; }
          a:focus-visible { outline: 3px solid currentColor; outline-offset: 2px; }
          .date { display: block; font-size: .9375rem; }
        </style>
      </head>
      <body>
        <header>
          <div class="notice" role="note">
            <p lang="fr"><strong>Ceci est un flux</strong> (RSS ou Atom) : copiez son adresse dans votre lecteur de flux pour suivre les nouvelles publications.</p>
            <p lang="en"><strong>This is a feed</strong> (RSS or Atom): copy its address into your feed reader to follow new publications.</p>
            <xsl:if test="$self">
              <p><code><xsl:value-of select="$self"/></code></p>
            </xsl:if>
          </div>
          <h1><xsl:value-of select="$title"/></h1>
          <xsl:if test="normalize-space($description)">
            <p><xsl:value-of select="$description"/></p>
          </xsl:if>
          <p><a href="{$home}"><span lang="fr">Aller sur le site</span> / <span lang="en">Go to the site</span></a></p>
        </header>
        <main>
          <h2>Publications</h2>
          <ol>
            <xsl:apply-templates select="/rss/channel/item | /atom:feed/atom:entry"/>
          </ol>
        </main>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="item">
    <li>
      <a href="{link}"><xsl:value-of select="title"/></a>
      <xsl:if test="pubDate">
        <span class="date"><xsl:value-of select="substring(pubDate, 6, 11)"/></span>
      </xsl:if>
    </li>
  </xsl:template>

  <xsl:template match="atom:entry">
    <li>
      <a href="{atom:link[@rel='alternate']/@href}"><xsl:value-of select="atom:title"/></a>
      <xsl:if test="atom:published">
        <time class="date" datetime="{atom:published}"><xsl:value-of select="substring(atom:published, 1, 10)"/></time>
      </xsl:if>
    </li>
  </xsl:template>
</xsl:stylesheet>
