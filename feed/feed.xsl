<?xml version="1.0" encoding="UTF-8"?>
<!--
  bulletin: shows an RSS 2.0 or Atom 1.0 feed opened in a browser as a plain
  page. No script, no external resource.
-->
<xsl:stylesheet version="1.0"
  xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
  xmlns:atom="http://www.w3.org/2005/Atom"
  xmlns:dc="http://purl.org/dc/elements/1.1/"
  exclude-result-prefixes="atom dc">
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

  <!-- An item in another language than the feed's says so (dc:language in
       RSS, xml:lang in Atom), for screen readers and hyphenation. -->
  <xsl:template match="item">
    <li>
      <xsl:if test="dc:language">
        <xsl:attribute name="lang"><xsl:value-of select="normalize-space(dc:language)"/></xsl:attribute>
      </xsl:if>
      <a href="{link}"><xsl:value-of select="title"/></a>
      <xsl:if test="pubDate">
        <xsl:call-template name="rfc822-date">
          <xsl:with-param name="date" select="normalize-space(pubDate)"/>
        </xsl:call-template>
      </xsl:if>
    </li>
  </xsl:template>

  <!-- An RFC 822 date ("Tue, 24 Nov 2026 00:00:00 +0100", the day name
       optional) as YYYY-MM-DD in a time element, as Atom dates are shown;
       as it is written when it does not parse. -->
  <xsl:template name="rfc822-date">
    <xsl:param name="date"/>
    <xsl:variable name="dmy">
      <xsl:choose>
        <xsl:when test="contains($date, ',')"><xsl:value-of select="normalize-space(substring-after($date, ','))"/></xsl:when>
        <xsl:otherwise><xsl:value-of select="$date"/></xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <xsl:variable name="day" select="substring-before($dmy, ' ')"/>
    <xsl:variable name="month" select="translate(substring-before(substring-after($dmy, ' '), ' '), 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ')"/>
    <xsl:variable name="year" select="substring-before(concat(substring-after(substring-after($dmy, ' '), ' '), ' '), ' ')"/>
    <xsl:variable name="months" select="'JANFEBMARAPRMAYJUNJULAUGSEPOCTNOVDEC'"/>
    <xsl:variable name="m" select="string-length(substring-before($months, $month)) div 3 + 1"/>
    <xsl:choose>
      <xsl:when test="string-length($month) = 3 and contains($months, $month) and $m = floor($m)
                      and string-length($year) = 4 and translate($year, '0123456789', '') = ''
                      and string-length($day) &lt;= 2 and translate($day, '0123456789', '') = ''
                      and $day &gt;= 1 and $day &lt;= 31">
        <xsl:variable name="iso" select="concat($year, '-', format-number($m, '00'), '-', format-number($day, '00'))"/>
        <time class="date" datetime="{$iso}"><xsl:value-of select="$iso"/></time>
      </xsl:when>
      <xsl:otherwise>
        <span class="date"><xsl:value-of select="$date"/></span>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template match="atom:entry">
    <li>
      <xsl:if test="@xml:lang">
        <xsl:attribute name="lang"><xsl:value-of select="@xml:lang"/></xsl:attribute>
      </xsl:if>
      <a href="{atom:link[@rel='alternate']/@href}"><xsl:value-of select="atom:title"/></a>
      <xsl:if test="atom:published">
        <time class="date" datetime="{atom:published}"><xsl:value-of select="substring(atom:published, 1, 10)"/></time>
      </xsl:if>
    </li>
  </xsl:template>
</xsl:stylesheet>
