# needs: data dlbcl as dlbcl-copy
# needs: data ctg as ctg-copy

debinn data fetch dlbcl --data-home datasets --base-url file:dlbcl-copy --quiet
debinn data fetch dlbcl --data-home datasets
debinn data fetch ctg --data-home datasets --base-url file:ctg-copy --quiet
debinn data list --data-home datasets
