
BoutputJ(xÛf<;9q=°œ¾û’<bÆ¾iÛÌ=MP¼ãÙU½ÿK=Ê›x<