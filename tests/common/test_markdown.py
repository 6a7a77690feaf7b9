from common.markdown import render_markdown


def test_markdown_renders_headings_with_anchors_and_a_table_of_contents():
    html, toc = render_markdown("Intro.\n\n## Bone health\n\nText.\n\n## Arteries\n", with_toc=True)
    assert '<h2 id="bone-health">Bone health</h2>' in html
    assert toc == [("bone-health", "Bone health"), ("arteries", "Arteries")]


def test_markdown_is_sanitised():
    html = render_markdown(
        '<script>alert(1)</script>[x](javascript:alert(1)) <a href="/ok" onclick="steal()">y</a>'
        '<img src="x.png" onerror="steal()"> <iframe src="https://evil"></iframe>'
    )
    for dangerous in ("<script", "javascript:", "onclick", "onerror", "<iframe"):
        assert dangerous not in html
    assert 'href="/ok"' in html
